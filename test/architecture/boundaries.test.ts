import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/boundary-violation', import.meta.url));
const cli = `${root}node_modules/dependency-cruiser/bin/dependency-cruiser.mjs`;

interface Violation {
  from: string;
  to: string;
  rule: { name: string; severity: string };
}

/** Run dependency-cruiser with the project's rules over `src` of a directory; return the violations. */
async function cruise(cwd: string): Promise<{ violations: Violation[]; modules: number }> {
  const { stdout } = await run(
    process.execPath,
    [cli, 'src', '--config', `${root}.dependency-cruiser.cjs`, '--output-type', 'json'],
    { cwd, maxBuffer: 64 * 1024 * 1024 },
  ).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  const result = JSON.parse(stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: result.summary.violations, modules: result.summary.totalCruised };
}

test('the real tree has no boundary violations', async (t) => {
  const { violations, modules } = await cruise(root);
  t.true(modules > 20, 'the cruise really looked at the source tree');
  t.deepEqual(
    violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`),
    [],
  );
});

test('each rule rejects its planted violation', async (t) => {
  const { violations } = await cruise(fixture);
  const seen = (rule: string, from: string, to: string) =>
    violations.some((v) => v.rule.name === rule && v.from === from && v.to === to && v.rule.severity === 'error');
  t.true(seen('no-other-module-internals', 'src/modules/alpha/index.ts', 'src/modules/beta/internal/secret.ts'));
  t.true(seen('no-internals-from-outside-modules', 'src/cli/peek.ts', 'src/modules/beta/internal/secret.ts'));
  t.true(seen('platform-is-independent', 'src/platform/leaky.ts', 'src/modules/beta/index.ts'));
  t.true(seen('modules-do-not-reach-up', 'src/modules/alpha/index.ts', 'src/migration/tool.ts'));
  t.true(violations.some((v) => v.rule.name === 'no-cycles' && /^src\/modules\/(gamma|delta)\//.test(v.from)));
  t.false(
    violations.some((v) => v.from === 'src/modules/alpha/internal/own.ts'),
    "a module's own internals may import its index",
  );
});
