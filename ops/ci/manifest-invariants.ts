/**
 * What must hold in every render of k8s/, beyond the schemas: the mistakes a schema cannot see.
 * Each check returns sentences naming the object; an empty list means the render is sound.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { envSchema } from '../../src/platform/config.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}
type Labels = Record<string, string>;
interface Selector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface Workload {
  id: string;
  labels: Labels;
  pod: any;
  env: Map<string, string>;
}

/** Labels that never change for a pod's lifetime; anything else in a selector breaks the next apply. */
const SELECTOR_KEYS = new Set(['app.kubernetes.io/name', 'app.kubernetes.io/component']);
const APP_PORT = 'TCP/8000';
/** Valid stand-ins for secret values the render does not contain (ExternalSecrets). */
const SECRET_STANDINS: Record<string, string> = {
  DATABASE_URL: 'postgres://u:p@postgresql:5432/boxoffice',
  REDIS_URL: 'redis://redis:6379',
  AMQP_URL: 'amqp://u:p@rabbitmq:5672',
  UNLEASH_API_TOKEN: 'token',
  SMTP_URL: 'smtp://mail:587',
  LEGACY_JWT_SECRET: 'x'.repeat(32),
  INTERNAL_API_SECRET: 'x'.repeat(32),
};

/** The paths the app's platform router serves (src/platform/http/app.ts). */
const served = new Set(
  [...readFileSync(fileURLToPath(new URL('../../src/platform/http/app.ts', import.meta.url)), 'utf8')
    .matchAll(/platform\.get\('([^']+)'/g)].map((m) => m[1]!),
);

function matches(sel: Selector | undefined, labels: Labels): boolean {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = has && (e.values ?? []).includes(labels[e.key]!);
    if ((e.operator === 'In' && !inValues) || (e.operator === 'NotIn' && inValues)) return false;
    if ((e.operator === 'Exists' && !has) || (e.operator === 'DoesNotExist' && has)) return false;
  }
  return true;
}
const selectorKeys = (sel: Selector | undefined) => [
  ...Object.keys(sel?.matchLabels ?? {}),
  ...(sel?.matchExpressions ?? []).map((e) => e.key),
];

function workloads(objs: K8sObject[]): Workload[] {
  const byName = (kind: string) => new Map(objs.filter((o) => o.kind === kind).map((o) => [o.metadata.name, o]));
  const configMaps = byName('ConfigMap');
  const secrets = byName('Secret');
  const external = new Map(objs.filter((o) => o.kind === 'ExternalSecret').map((o) => [o.spec?.target?.name ?? o.metadata.name, o]));
  return objs
    .filter((o) => o.kind === 'Deployment' || o.kind === 'Job')
    .map((o) => {
      const pod = o.spec.template.spec;
      const env = new Map<string, string>();
      const c = pod.containers[0];
      for (const from of c.envFrom ?? []) {
        if (from.configMapRef) for (const [k, v] of Object.entries(configMaps.get(from.configMapRef.name)?.data ?? {})) env.set(k, v);
        if (from.secretRef) {
          const s = secrets.get(from.secretRef.name);
          for (const [k, v] of Object.entries(s?.data ?? {})) env.set(k, Buffer.from(v, 'base64').toString());
          for (const [k, v] of Object.entries(s?.stringData ?? {})) env.set(k, v);
          for (const d of external.get(from.secretRef.name)?.spec?.data ?? []) env.set(d.secretKey, SECRET_STANDINS[d.secretKey] ?? 'x');
        }
      }
      for (const e of c.env ?? []) if (typeof e.value === 'string') env.set(e.name, e.value);
      return { id: `${o.kind}/${o.metadata.name}`, labels: o.spec.template.metadata?.labels ?? {}, pod, env };
    });
}

function checkConfig(objs: K8sObject[], ws: Workload[]): string[] {
  const errors: string[] = [];
  const known = new Set(Object.keys(envSchema.shape));
  const names = new Set(objs.map((o) => `${o.kind}/${o.metadata.name}`));
  const secretNames = new Set([
    ...objs.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name),
    ...objs.filter((o) => o.kind === 'ExternalSecret').map((o) => o.spec?.target?.name ?? o.metadata.name),
  ]);
  for (const w of ws) {
    const c = w.pod.containers[0];
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef && !names.has(`ConfigMap/${from.configMapRef.name}`)) errors.push(`${w.id}: ConfigMap ${from.configMapRef.name} is not in the render`);
      if (from.secretRef && !secretNames.has(from.secretRef.name)) errors.push(`${w.id}: Secret ${from.secretRef.name} is neither a Secret nor an ExternalSecret target`);
    }
    for (const key of w.env.keys()) if (!known.has(key)) errors.push(`${w.id}: ${key} is not a variable the app reads`);
    const parsed = envSchema.safeParse(Object.fromEntries(w.env));
    if (!parsed.success) for (const issue of parsed.error.issues) errors.push(`${w.id}: config ${issue.path.join('.')}: ${issue.message}`);
  }
  return errors;
}

function checkPods(objs: K8sObject[], ws: Workload[]): string[] {
  const errors: string[] = [];
  const serviceAccounts = new Map(objs.filter((o) => o.kind === 'ServiceAccount').map((o) => [o.metadata.name, o as any]));
  for (const w of ws) {
    const { pod } = w;
    if (pod.securityContext?.runAsNonRoot !== true) errors.push(`${w.id}: pod runAsNonRoot is not true`);
    if (pod.securityContext?.seccompProfile?.type !== 'RuntimeDefault') errors.push(`${w.id}: seccomp is not RuntimeDefault`);
    const sa = serviceAccounts.get(pod.serviceAccountName);
    if (!sa) errors.push(`${w.id}: ServiceAccount ${pod.serviceAccountName} is not in the render`);
    if (pod.automountServiceAccountToken !== false && sa?.automountServiceAccountToken !== false) errors.push(`${w.id}: mounts a service-account token`);
    for (const c of pod.containers) {
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) errors.push(`${w.id}: ${c.name}: root file system is writable`);
      if (sc.allowPrivilegeEscalation !== false) errors.push(`${w.id}: ${c.name}: allowPrivilegeEscalation is not false`);
      if (!(sc.capabilities?.drop ?? []).includes('ALL')) errors.push(`${w.id}: ${c.name}: capabilities not dropped`);
      const ports = c.ports ?? [];
      for (const kind of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const probe = c[kind];
        if (!probe) {
          if (w.id.startsWith('Deployment/')) errors.push(`${w.id}: ${c.name}: no ${kind}`);
          continue;
        }
        const get = probe.httpGet;
        if (!get || !served.has(get.path)) errors.push(`${w.id}: ${kind} ${get?.path ?? '(not httpGet)'} is not a route the app serves (${[...served].join(', ')})`);
        if (get && !ports.some((p: any) => p.name === get.port || p.containerPort === get.port)) errors.push(`${w.id}: ${kind} port ${get.port} is not a container port`);
      }
      const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
      const drain = Number(w.env.get('SHUTDOWN_TIMEOUT_MS') ?? 10_000) / 1000;
      const grace = pod.terminationGracePeriodSeconds ?? 30;
      if (w.id.startsWith('Deployment/') && preStop + drain >= grace) errors.push(`${w.id}: preStop ${preStop}s + drain ${drain}s does not fit terminationGracePeriodSeconds ${grace}s`);
    }
  }
  return errors;
}

function checkRouting(objs: K8sObject[], ws: Workload[]): string[] {
  const errors: string[] = [];
  const services = new Map(objs.filter((o) => o.kind === 'Service').map((o) => [o.metadata.name, o]));
  const rollouts = objs.filter((o) => o.kind === 'Rollout');
  const live = ws.filter((w) => !w.id.startsWith('Job/'));
  for (const s of services.values()) {
    const sel: Labels = s.spec.selector ?? {};
    for (const k of Object.keys(sel)) if (!SELECTOR_KEYS.has(k)) errors.push(`Service/${s.metadata.name}: mutable label ${k} in its selector`);
    const behind = live.filter((w) => matches({ matchLabels: sel }, w.labels));
    if (!behind.length) errors.push(`Service/${s.metadata.name}: selects no pods`);
    for (const p of s.spec.ports ?? []) {
      for (const w of behind) {
        const ok = w.pod.containers.some((c: any) => (c.ports ?? []).some((cp: any) => cp.name === p.targetPort || cp.containerPort === p.targetPort));
        if (!ok) errors.push(`Service/${s.metadata.name}: targetPort ${p.targetPort} is not exposed by ${w.id}`);
      }
    }
  }
  for (const o of objs) {
    const sels: [string, Selector | undefined][] = [];
    if (o.kind === 'Deployment' || o.kind === 'Rollout' || o.kind === 'PodDisruptionBudget') sels.push(['selector', o.spec.selector]);
    if (o.kind === 'NetworkPolicy') sels.push(['podSelector', o.spec.podSelector]);
    for (const t of o.spec?.template?.spec?.topologySpreadConstraints ?? []) sels.push(['topologySpreadConstraints', t.labelSelector]);
    for (const [where, sel] of sels) for (const k of selectorKeys(sel)) if (!SELECTOR_KEYS.has(k)) errors.push(`${o.kind}/${o.metadata.name}: mutable label ${k} in ${where}`);
    if (o.kind === 'Deployment' && !matches(o.spec.selector, o.spec.template.metadata.labels)) errors.push(`Deployment/${o.metadata.name}: selector does not match its own pods`);
    if (o.kind === 'PodDisruptionBudget' && !live.some((w) => matches(o.spec.selector, w.labels))) errors.push(`PodDisruptionBudget/${o.metadata.name}: selects no pods`);
    if (o.kind === 'HorizontalPodAutoscaler') {
      const ref = o.spec.scaleTargetRef;
      if (!objs.some((t) => t.kind === ref.kind && t.metadata.name === ref.name)) errors.push(`HorizontalPodAutoscaler/${o.metadata.name}: target ${ref.kind}/${ref.name} is not in the render`);
      if (ref.kind === 'Deployment' && rollouts.some((r) => r.spec.workloadRef?.name === ref.name)) errors.push(`HorizontalPodAutoscaler/${o.metadata.name}: scales a Deployment a Rollout took over`);
    }
    if (o.kind === 'Ingress') {
      for (const rule of o.spec.rules ?? []) for (const p of rule.http?.paths ?? []) {
        const b = p.backend.service;
        const s = services.get(b.name);
        if (!s) errors.push(`Ingress/${o.metadata.name}: ${p.path} → missing Service ${b.name}`);
        else if (!(s.spec.ports ?? []).some((sp: any) => sp.name === b.port.name || sp.port === b.port.number)) errors.push(`Ingress/${o.metadata.name}: ${p.path} → Service ${b.name} has no port ${b.port.name ?? b.port.number}`);
      }
      if (!(o.spec.tls ?? []).length) errors.push(`Ingress/${o.metadata.name}: no TLS`);
    }
  }
  return errors;
}

/** Peers a NetworkPolicy rule allows, as `peer port` strings (peer: namespace/app, app, or external). */
function peers(rule: any, direction: 'from' | 'to'): string[] {
  const out: string[] = [];
  const ports = (rule.ports ?? []).map((p: any) => `${p.protocol ?? 'TCP'}/${p.port}`);
  for (const peer of rule[direction] ?? []) {
    const name = peer.ipBlock
      ? 'external'
      : peer.namespaceSelector
        ? `${peer.namespaceSelector.matchLabels?.['kubernetes.io/metadata.name']}/${peer.podSelector?.matchLabels?.['app.kubernetes.io/name'] ?? peer.podSelector?.matchLabels?.['k8s-app']}`
        : 'app';
    for (const port of ports) out.push(`${name} ${port}`);
  }
  return out;
}

function checkNetworkPolicies(objs: K8sObject[], ws: Workload[]): string[] {
  const errors: string[] = [];
  const policies = objs.filter((o) => o.kind === 'NetworkPolicy');
  if (!policies.some((p) => Object.keys(p.spec.podSelector ?? {}).length === 0 && ['Ingress', 'Egress'].every((t) => p.spec.policyTypes?.includes(t)) && !p.spec.ingress && !p.spec.egress)) {
    errors.push('NetworkPolicy: no default deny of both directions');
  }
  const services = objs.filter((o) => o.kind === 'Service');
  const servicesOf = (w: Workload) => services.filter((s) => s.spec.selector && matches({ matchLabels: s.spec.selector }, w.labels));
  const monitored = objs.filter((o) => o.kind === 'ServiceMonitor').map((m) => m.spec.selector as Selector);
  const ingressBackends = new Set(objs.filter((o) => o.kind === 'Ingress').flatMap((i) => (i.spec.rules ?? []).flatMap((r: any) => (r.http?.paths ?? []).map((p: any) => p.backend.service.name))));
  const calledServices = new Set(ws.flatMap((w) => [...w.env].filter(([k]) => k.startsWith('SERVICE_URL_')).map(([, v]) => new URL(v).hostname)));
  for (const w of ws) {
    const role = w.env.get('ROLE') ?? 'all';
    const modules = (w.env.get('MODULES') ?? 'all').split(',');
    const migrate = (w.pod.containers[0].args ?? []).includes('migrate');
    const need = { egress: new Set(['kube-system/kube-dns UDP/53', 'kube-system/kube-dns TCP/53', 'boxoffice-data/postgresql TCP/5432']), ingress: new Set<string>() };
    if (!migrate) {
      need.egress.add('boxoffice-data/redis TCP/6379').add('boxoffice-data/unleash TCP/4242');
      if (role !== 'web') need.egress.add('boxoffice-data/rabbitmq TCP/5672');
      if (role !== 'web' && (modules.includes('all') || modules.includes('notification')) && w.env.has('SMTP_URL')) need.egress.add('external TCP/587').add('external TCP/465');
      if ([...w.env.keys()].some((k) => k.startsWith('SERVICE_URL_'))) need.egress.add(`app ${APP_PORT}`);
      const mine = servicesOf(w);
      if (mine.some((s) => ingressBackends.has(s.metadata.name))) need.ingress.add(`ingress-nginx/ingress-nginx ${APP_PORT}`);
      if (mine.some((s) => monitored.some((sel) => matches(sel, s.metadata.labels ?? {})))) need.ingress.add(`monitoring/prometheus ${APP_PORT}`);
      if (mine.some((s) => calledServices.has(s.metadata.name))) need.ingress.add(`app ${APP_PORT}`);
    }
    const allowed = { egress: new Set<string>(), ingress: new Set<string>() };
    for (const p of policies.filter((p) => matches(p.spec.podSelector, w.labels) || Object.keys(p.spec.podSelector ?? {}).length === 0)) {
      for (const r of p.spec.egress ?? []) for (const x of peers(r, 'to')) allowed.egress.add(x);
      for (const r of p.spec.ingress ?? []) for (const x of peers(r, 'from')) allowed.ingress.add(x);
    }
    // The web pods take calls from split-out modules for the modules they still serve; with every
    // module split out nothing calls them, but each split-<m> component cannot know the others are
    // applied too, so that one allowance may be wider than needed.
    if (w.labels['app.kubernetes.io/component'] === 'web' && calledServices.size) need.ingress.add(`app ${APP_PORT}`);
    for (const dir of ['egress', 'ingress'] as const) {
      for (const x of need[dir]) if (!allowed[dir].has(x)) errors.push(`${w.id}: NetworkPolicies do not allow ${dir} ${x}, which it needs`);
      for (const x of allowed[dir]) if (!need[dir].has(x)) errors.push(`${w.id}: NetworkPolicies allow ${dir} ${x}, which it does not need`);
    }
  }
  return errors;
}

export function checkInvariants(objs: K8sObject[]): string[] {
  const ws = workloads(objs);
  return [...checkConfig(objs, ws), ...checkPods(objs, ws), ...checkRouting(objs, ws), ...checkNetworkPolicies(objs, ws)];
}

/** A Deployment's selector is immutable in the cluster: no overlay or component may render another. */
export function checkAcrossRenders(renders: Map<string, K8sObject[]>): string[] {
  const seen = new Map<string, { render: string; selector: string }>();
  const errors: string[] = [];
  for (const [render, objs] of renders) {
    for (const o of objs.filter((o) => o.kind === 'Deployment' || o.kind === 'Rollout')) {
      const key = `${o.kind}/${o.metadata.name}`;
      const selector = JSON.stringify(o.spec.selector);
      const first = seen.get(key);
      if (!first) seen.set(key, { render, selector });
      else if (first.selector !== selector) errors.push(`${key}: selector differs between "${first.render}" and "${render}"`);
    }
  }
  return errors;
}
