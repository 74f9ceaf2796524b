import { execFileSync } from 'node:child_process';
import test from 'ava';
import { parseAllDocuments } from 'yaml';
import { checkAcrossRenders, checkInvariants, type K8sObject } from '../../ops/ci/manifest-invariants.ts';

/** The checks CI runs on every render (ops/ci/validate-manifests.ts), shown to fail on each mistake. */
const render = (path: string): K8sObject[] =>
  parseAllDocuments(execFileSync('kubectl', ['kustomize', path], { encoding: 'utf8' })).map((d) => d.toJS() as K8sObject);
const production = render('k8s/overlays/production');
const copy = () => structuredClone(production);
const find = (objs: K8sObject[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata.name === name)!;

test('the production render is sound', (t) => {
  t.deepEqual(checkInvariants(production), []);
});

test('a version label in a selector is refused', (t) => {
  const objs = copy();
  const web = find(objs, 'Deployment', 'boxoffice-web');
  web.spec.selector.matchLabels['app.kubernetes.io/version'] = '1.2.3';
  web.spec.template.metadata.labels['app.kubernetes.io/version'] = '1.2.3';
  t.true(checkInvariants(objs).some((e) => /Deployment\/boxoffice-web: mutable label app.kubernetes.io\/version in selector/.test(e)));
  t.true(checkAcrossRenders(new Map([['before', production], ['after', objs]])).some((e) => /selector differs/.test(e)));
});

test('a Service whose port or selector matches no pod is refused', (t) => {
  const objs = copy();
  find(objs, 'Service', 'booking-service').spec.ports[0].targetPort = 'metrics';
  find(objs, 'Service', 'payment-service').spec.selector['app.kubernetes.io/component'] = 'payment';
  const errors = checkInvariants(objs);
  t.true(errors.some((e) => /Service\/booking-service: targetPort metrics is not exposed/.test(e)));
  t.true(errors.some((e) => /Service\/payment-service: selects no pods/.test(e)));
});

test('a NetworkPolicy that misses a needed port, or opens one not needed, is refused', (t) => {
  const objs = copy();
  const policy = find(objs, 'NetworkPolicy', 'boxoffice-worker');
  const postgres = policy.spec.egress.find((r: any) => r.ports[0].port === 5432);
  postgres.ports[0].port = 5433;
  const errors = checkInvariants(objs);
  t.true(errors.some((e) => /boxoffice-worker: NetworkPolicies do not allow egress boxoffice-data\/postgresql TCP\/5432/.test(e)));
  t.true(errors.some((e) => /boxoffice-worker: NetworkPolicies allow egress boxoffice-data\/postgresql TCP\/5433, which it does not need/.test(e)));
});

test('a probe on a route the app does not serve, and an unknown config key, are refused', (t) => {
  const objs = copy();
  find(objs, 'Deployment', 'boxoffice-web').spec.template.spec.containers[0].readinessProbe.httpGet.path = '/ready';
  find(objs, 'ConfigMap', 'boxoffice-config').data!['LOG_LEVL'] = 'debug';
  find(objs, 'ConfigMap', 'boxoffice-config').data!['DB_POOL_MAX'] = 'lots';
  const errors = checkInvariants(objs);
  t.true(errors.some((e) => /readinessProbe \/ready is not a route the app serves/.test(e)));
  t.true(errors.some((e) => /LOG_LEVL is not a variable the app reads/.test(e)));
  t.true(errors.some((e) => /config DB_POOL_MAX:/.test(e)));
});
