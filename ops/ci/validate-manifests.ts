/**
 * Render every overlay with and without every component (`kubectl kustomize`) and check each render:
 *   1. every object against the Kubernetes JSON schemas pinned by the kubernetes-models packages
 *      (and the CRDs we use: Argo Rollouts, Prometheus Operator, External Secrets);
 *   2. the invariants in ./manifest-invariants.ts (Services, selectors, NetworkPolicies, probes, config).
 *
 *   node ops/ci/validate-manifests.ts            # prints one line per render, exits 1 on any problem
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import * as k8s from 'kubernetes-models';
import * as rollouts from '@kubernetes-models/argo-rollouts';
import * as promOperator from '@kubernetes-models/prometheus-operator';
import * as externalSecrets from '@kubernetes-models/external-secrets';
import { checkInvariants, checkAcrossRenders, type K8sObject } from './manifest-invariants.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const k8sDir = join(root, 'k8s');
const scratch = join(root, '.k8s-render');

/** `networking.k8s.io` → `networkingK8sIo`, the export name the models packages use for a group. */
const groupKey = (group: string) => group.replace(/[.-](\w)/g, (_, c: string) => c.toUpperCase());
const modelRoots: Record<string, unknown>[] = [k8s, rollouts, promOperator, externalSecrets];

type Model = new (data: unknown) => { validate(): void };
function modelFor(apiVersion: string, kind: string): Model | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  for (const models of modelRoots) {
    const byGroup = (group ? models[groupKey(group!)] : models[version!]) as Record<string, unknown> | undefined;
    const byVersion = (group ? byGroup?.[version!] : byGroup) as Record<string, Model> | undefined;
    if (byVersion?.[kind]) return byVersion[kind];
  }
  return undefined;
}

function schemaErrors(obj: K8sObject): string[] {
  const Model = modelFor(obj.apiVersion, obj.kind);
  if (!Model) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    const details = (err as { errors?: { instancePath: string; message: string }[] }).errors;
    return details?.length
      ? details.map((e) => `${e.instancePath || '/'} ${e.message}`)
      : [err instanceof Error ? err.message : String(err)];
  }
}

const dirs = (dir: string) =>
  readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

/** Components an overlay already includes (adding one twice is an error, and means nothing). */
function ownComponents(overlay: string): string[] {
  const k = parse(readFileSync(join(k8sDir, 'overlays', overlay, 'kustomization.yaml'), 'utf8')) as { components?: string[] };
  return (k.components ?? []).map((c) => c.split('/').pop()!);
}

export interface Render {
  name: string;
  overlay: string;
  components: string[];
}

export function renders(): Render[] {
  const overlays = dirs(join(k8sDir, 'overlays'));
  const components = dirs(join(k8sDir, 'components'));
  const splits = components.filter((c) => c.startsWith('split-'));
  const out: Render[] = [];
  for (const overlay of overlays) {
    const own = ownComponents(overlay);
    const extra = components.filter((c) => !own.includes(c));
    const sets: string[][] = [[], ...extra.map((c) => [c]), splits, extra];
    const seen = new Set<string>();
    for (const set of sets) {
      const key = set.join('+');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ name: `${overlay}${set.length ? ` + ${key}` : ''}`, overlay, components: set });
    }
  }
  return out;
}

function render(r: Render): K8sObject[] {
  const dir = join(scratch, r.name.replace(/[^\w-]+/g, '_'));
  mkdirSync(dir, { recursive: true });
  const rel = (p: string) => relative(dir, p);
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `resources: [${rel(join(k8sDir, 'overlays', r.overlay))}]`,
      `components: [${r.components.map((c) => rel(join(k8sDir, 'components', c))).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const yaml = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return parseAllDocuments(yaml)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null);
}

function main(): void {
  rmSync(scratch, { recursive: true, force: true });
  const all = renders();
  const rendered = new Map<string, K8sObject[]>();
  let problems = 0;
  let objects = 0;
  for (const r of all) {
    const objs = render(r);
    // kustomize folds long base64 values over lines; the API server's decoder skips the newlines
    for (const o of objs) if (o.kind === 'Secret' && o.data) for (const k of Object.keys(o.data)) o.data[k] = o.data[k]!.replace(/\s+/g, '');
    rendered.set(r.name, objs);
    const errors: string[] = [];
    for (const obj of objs) {
      for (const e of schemaErrors(obj)) errors.push(`${obj.kind}/${obj.metadata.name}: schema: ${e}`);
    }
    errors.push(...checkInvariants(objs));
    objects += objs.length;
    problems += errors.length;
    console.log(`manifests: ${errors.length ? 'FAIL' : 'ok  '} ${r.name} (${objs.length} objects)`);
    for (const e of errors) console.log(`    ${e}`);
  }
  const across = checkAcrossRenders(rendered);
  for (const e of across) console.log(`manifests: FAIL across renders: ${e}`);
  problems += across.length;
  rmSync(scratch, { recursive: true, force: true });
  console.log(
    `manifests: ${all.length} renders (overlay × components), ${objects} objects validated against the ` +
      `kubernetes-models schemas and the invariants; ${problems} problem(s)`,
  );
  if (problems) process.exit(1);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
