import { spawn } from 'node:child_process';
import test from 'ava';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createRig, scenario, type Rig } from './reconcile-scenario.ts';

/** Reconciliation with every module's own schema in DATABASE_URL: both sides read under one snapshot. */
let db: TestDatabase;
let rig: Rig;
test.before(async () => {
  db = await createTestDatabase();
  rig = await createRig(db);
});
test.after.always(async () => {
  await rig?.close();
  await db?.drop();
});

test.serial('planted differences of every kind on both sides: found exactly, repaired in the phase direction, then clean', async (t) => {
  await scenario(t, rig);
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli/main.ts', 'reconcile', ...args], { env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test.serial('boxoffice reconcile: exit 0 clean, 1 with drift (the runs as JSON), 2 for a usage error', async (t) => {
  const clean = await cli(['auth', '--json']);
  t.is(clean.code, 0, clean.stderr);
  t.like((JSON.parse(clean.stdout) as { status: string }[])[0], { status: 'clean' });

  await rig.legacy.raw(`UPDATE public.users SET full_name = 'Drifted' WHERE id = (SELECT min(id::text)::uuid FROM public.users)`);
  const drift = await cli(['auth', '--json']);
  t.is(drift.code, 1, drift.stderr);
  const [report] = JSON.parse(drift.stdout) as { status: string; findings: { kind: string; fields: { field: string; legacy: unknown }[] }[] }[];
  t.like(report, { status: 'drift' });
  t.deepEqual(report!.findings.map((f) => [f.kind, f.fields[0]?.field, f.fields[0]?.legacy]), [['fields', 'full_name', 'Drifted']]);
  const table = await cli(['auth']);
  t.is(table.code, 1);
  t.regex(table.stdout, /auth\/users\s+full\s+drift\s+\d+/, 'a summary table per aggregate');

  const usage = await cli(['auth', '--apply']);
  t.is(usage.code, 2);
  t.regex(usage.stderr, /--apply goes with --repair/);
  const unknown = await cli(['tickets']);
  t.is(unknown.code, 2);
  t.regex(unknown.stderr, /unknown module "tickets"/);
});
