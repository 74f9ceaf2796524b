/**
 * The monitoring objects of k8s/components/monitoring, checked:
 *   - the PrometheusRule's groups with `promtool check rules` and `promtool test rules`
 *     (ops/monitoring/rules.test.yml), promtool taken from Debian's prometheus package;
 *   - every PromQL expression in the rules, the dashboard and the canary analysis parses
 *     (@prometheus-io/lezer-promql, Prometheus' own grammar);
 *   - every metric they name is one the app registers (found in src/), a default process metric,
 *     a recording rule, or listed below as coming from elsewhere or not built yet.
 *
 *   node ops/ci/check-monitoring.ts <promtool>     # exits 1 on any problem
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parser } from '@prometheus-io/lezer-promql';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse, parseAllDocuments, stringify } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const monitoring = join(root, 'k8s/components/monitoring');

/** Metrics that are not the app's own. */
const EXTERNAL: Record<string, string> = {
  rabbitmq_detailed_queue_messages: "RabbitMQ's rabbitmq_prometheus plugin (per-object metrics)",
  rabbitmq_detailed_queue_messages_ready: "RabbitMQ's rabbitmq_prometheus plugin (per-object metrics)",
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? filesUnder(join(dir, n)) : [join(dir, n)]));
}

/** Metric names registered in src/: the first argument of counter/histogram/gauge, a `name:`, or `new Gauge({ name: … })`. */
function appMetrics(): Set<string> {
  const names = new Set<string>();
  for (const file of filesUnder(join(root, 'src')).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:counter|histogram|gauge)\(\s*'([a-z_][a-z0-9_]*)'|name:\s*'([a-z_][a-z0-9_]*_(?:total|seconds|events|bytes))'|new (?:Gauge|Counter|Histogram|Summary)\(\{\s*name:\s*'([a-z_][a-z0-9_]*)'/g)) {
      names.add((m[1] ?? m[2] ?? m[3])!);
    }
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const m of registry.getMetricsAsArray()) names.add(m.name);
  return names;
}

/** The metric names a PromQL expression selects, or the parse error. */
function metricsIn(expr: string): { names: string[]; error?: string } {
  const tree = parser.parse(expr);
  const names: string[] = [];
  let error: string | undefined;
  tree.iterate({
    enter(node) {
      if (node.type.isError) error ??= `syntax error at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 20), node.to + 20))}`;
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.push(expr.slice(node.from, node.to));
    },
  });
  return error ? { names, error } : { names };
}

function main(): void {
  const promtool = process.argv[2];
  const problems: string[] = [];
  const rule = parse(readFileSync(join(monitoring, 'prometheusrule.yaml'), 'utf8')) as { spec: { groups: { rules: { record?: string; alert?: string; expr: string }[] }[] } };
  const known = appMetrics();
  const recorded = new Set(rule.spec.groups.flatMap((g) => g.rules.map((r) => r.record).filter((r): r is string => !!r)));

  const exprs: { where: string; expr: string }[] = rule.spec.groups.flatMap((g) =>
    g.rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })),
  );
  const dashboard = JSON.parse(readFileSync(join(monitoring, 'dashboards/boxoffice.json'), 'utf8')) as { panels: { id: number; title: string; targets?: { expr: string }[] }[] };
  const ids = new Set<number>();
  for (const p of dashboard.panels) {
    if (ids.has(p.id)) problems.push(`dashboard: panel id ${p.id} used twice`);
    ids.add(p.id);
    for (const t of p.targets ?? []) exprs.push({ where: `dashboard panel "${p.title}"`, expr: t.expr.replaceAll('$__rate_interval', '5m') });
  }
  for (const doc of parseAllDocuments(readFileSync(join(root, 'k8s/components/canary/rollout.yaml'), 'utf8'))) {
    const o = doc.toJS() as { kind: string; spec: { metrics?: { name: string; provider: { prometheus: { query: string } } }[] } };
    for (const m of o.kind === 'AnalysisTemplate' ? (o.spec.metrics ?? []) : []) {
      exprs.push({ where: `canary analysis ${m.name}`, expr: m.provider.prometheus.query.replace(/\{\{args\.[\w-]+\}\}/g, 'x') });
    }
  }

  for (const { where, expr } of exprs) {
    const { names, error } = metricsIn(expr);
    if (error) problems.push(`${where}: ${error}`);
    for (const n of names) {
      const base = n.replace(/_(bucket|count|sum)$/, '');
      if (!known.has(n) && !known.has(base) && !recorded.has(n) && !(n in EXTERNAL)) problems.push(`${where}: metric ${n} is registered nowhere in src/`);
    }
  }
  console.log(`monitoring: ${exprs.length} PromQL expressions parsed (rules, ${dashboard.panels.length} dashboard panels, canary analysis); metrics from outside the app: ${Object.keys(EXTERNAL).join(', ')}`);

  if (promtool) {
    const dir = mkdtempSync(join(tmpdir(), 'bo-rules-'));
    try {
      writeFileSync(join(dir, 'rules.yml'), stringify({ groups: rule.spec.groups }));
      copyFileSync(join(root, 'ops/monitoring/rules.test.yml'), join(dir, 'rules.test.yml'));
      for (const args of [['check', 'rules', 'rules.yml'], ['test', 'rules', 'rules.test.yml']]) {
        try {
          const out = execFileSync(promtool, args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
          console.log(`monitoring: promtool ${args.join(' ')}: ${out.trim().split('\n').filter(Boolean).pop()}`);
        } catch (err) {
          const e = err as { stdout?: string; stderr?: string };
          problems.push(`promtool ${args.join(' ')}:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    console.log('monitoring: no promtool given; rules were only parsed');
  }
  for (const p of problems) console.log(`monitoring: FAIL ${p}`);
  if (problems.length) process.exit(1);
}

main();
