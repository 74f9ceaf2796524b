import { randomUUID } from 'node:crypto';
import type { ExecutionContext } from 'ava';
import { seedLegacy } from '../../src/cli/seed/legacy-seed.ts';
import { backfill } from '../../src/migration/backfill/backfill.ts';
import type { Phase } from '../../src/migration/phases.ts';
import { reconcile, type AggregateReport } from '../../src/migration/reconciliation/reconcile.ts';
import { loadConfig, MODULE_NAMES, type Config, type ModuleName } from '../../src/platform/config.ts';
import { createPool, Databases, type Knex } from '../../src/platform/db.ts';
import { MODULE_REGISTRY } from '../../src/module-registry.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { count } from '../helpers/events.ts';

/**
 * The reconciliation scenario of issue 9, run in both configurations (the own schemas in DATABASE_URL, or
 * auth's and booking's in a database of their own): seeded legacy rows, backfilled; a known set of
 * corruptions of every kind planted on both sides while nothing dual-writes; then a run must report
 * exactly that set, a dry run must change nothing, `--apply` must repair in the phase's direction, and,
 * once the orphan is fixed by hand at its source, a run must be clean.
 */
export const BOOKINGS = 32_000; // with their seats (≈ 2.35 each) over 100k legacy rows in booking alone

export interface Rig {
  config: Config;
  databases: Databases;
  /** the migrate login on DATABASE_URL (legacy tables, and own schemas there) */
  legacy: Knex;
  /** where auth's and booking's own schemas are (the same database, or the module database) */
  own: Knex;
  close(): Promise<void>;
}

export async function createRig(main: TestDatabase, moduleDatabase?: TestDatabase): Promise<Rig> {
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: main.url,
    DB_POOL_MAX: '4',
    ...(moduleDatabase ? { AUTH_DATABASE_URL: moduleDatabase.url, BOOKING_DATABASE_URL: moduleDatabase.url } : {}),
  });
  const databases = new Databases(config);
  const legacy = createPool(main.url, { max: 2 });
  const own = moduleDatabase ? createPool(moduleDatabase.url, { max: 2 }) : legacy;
  await seedLegacy(databases.forRole('legacy', 'public'), {
    schema: 'public', users: 4000, movies: 40, bookings: BOOKINGS, seed: 9, epoch: '2026-01-01', batchSize: 10_000, jobs: 2, truncate: true,
  }, { start() {}, update() {}, stop() {} }, () => undefined);
  for (const m of MODULE_NAMES) {
    const ownDb = databases.forModuleDatabase(m);
    await backfill({
      db: databases.forRole('migration', 'migration'), legacySchema: 'public', mapping: MODULE_REGISTRY[m].mapping(config),
      separate: ownDb ? { legacy: databases.forModule(m), own: ownDb } : undefined, batchSize: 5000, jobs: 2, restart: true, force: true,
    });
  }
  return {
    config, databases, legacy, own,
    async close() {
      if (own !== legacy) await own.destroy();
      await legacy.destroy();
      await databases.closeAll();
    },
  };
}

export function run(rig: Rig, options: { modules?: ModuleName[]; repair?: 'none' | 'dry_run' | 'apply'; phase?: Phase } = {}): Promise<AggregateReport[]> {
  return reconcile({
    databases: rig.databases, legacySchema: 'public', mappings: MODULE_NAMES.map((m) => MODULE_REGISTRY[m].mapping(rig.config)),
    modules: options.modules ?? [...MODULE_NAMES], mode: 'full', repair: options.repair ?? 'none', phaseOf: async () => options.phase ?? 'DUAL_WRITE',
  });
}

export interface Planted {
  aggregate: string;
  key: string;
  kind: 'missing_in_own' | 'missing_in_legacy' | 'fields' | 'orphan';
  /** for `fields`: the differing field paths, exactly */
  fields?: string[];
}

const one = async (db: Knex, sql: string, bindings: unknown[] = []): Promise<string> => {
  const { rows } = (await db.raw(sql, bindings as never[])) as { rows: { id: string }[] };
  if (!rows[0]) throw new Error(`nothing found for: ${sql}`);
  return rows[0].id;
};

/**
 * Plant one difference of each kind on each side. Bookings chosen are cancelled ones, so no showtime's
 * taken seats (derived from active bookings on the legacy side) change with them: the movie module must
 * stay clean, as a run must not report what nobody planted.
 */
export async function plant(rig: Rig): Promise<{ planted: Planted[]; orphan: { key: string; seatRow: string } }> {
  const { legacy, own } = rig;
  const cancelled = (n: number) => one(legacy, `SELECT id::text FROM public.bookings WHERE status = 'cancelled' ORDER BY id OFFSET ? LIMIT 1`, [n]);
  const user = (n: number) => one(legacy, `SELECT u.id::text FROM public.users u WHERE NOT EXISTS (SELECT 1 FROM public.bookings b WHERE b.user_id = u.id) ORDER BY u.id OFFSET ? LIMIT 1`, [n]);
  const planted: Planted[] = [];

  // auth/users: a field changed on each side, a row missing on each side
  const [u1, u2, u3] = [await user(0), await user(1), await user(2)];
  await own.raw(`UPDATE auth.users SET email = 'changed-on-own@example.com' WHERE id = ?`, [u1]);
  planted.push({ aggregate: 'users', key: u1, kind: 'fields', fields: ['email'] });
  await legacy.raw(`UPDATE public.users SET full_name = 'Changed On Legacy' WHERE id = ?`, [u2]);
  planted.push({ aggregate: 'users', key: u2, kind: 'fields', fields: ['full_name'] });
  await own.raw(`DELETE FROM auth.users WHERE id = ?`, [u3]);
  planted.push({ aggregate: 'users', key: u3, kind: 'missing_in_own' });
  const u4 = randomUUID();
  await own.raw(`INSERT INTO auth.users (id, email, full_name, password_hash, role, is_active, created_at, updated_at)
                 SELECT ?, 'only-on-own@example.com', full_name, password_hash, role, is_active, created_at, updated_at FROM auth.users WHERE id = ?`, [u4, u2]);
  planted.push({ aggregate: 'users', key: u4, kind: 'missing_in_legacy' });

  // booking/bookings: root and child fields on each side, a booking missing on each side, an orphan
  const [b1, b2, b3, b4, b5, b6] = (await Promise.all([0, 1, 2, 3, 4, 5].map(cancelled))) as [string, string, string, string, string, string];
  await legacy.raw(`UPDATE public.bookings SET total_price = total_price + 1000 WHERE id = ?`, [b1]);
  planted.push({ aggregate: 'bookings', key: b1, kind: 'fields', fields: ['total_price'] });
  await own.raw(`UPDATE bookings.booking_seats SET price = price + 500 WHERE id = (SELECT min(id::text)::uuid FROM bookings.booking_seats WHERE booking_id = ?)`, [b2]);
  planted.push({ aggregate: 'bookings', key: b2, kind: 'fields' });
  await legacy.raw(`DELETE FROM public.booking_seats WHERE id = (SELECT min(id::text)::uuid FROM public.booking_seats WHERE booking_id = ?)`, [b3]);
  planted.push({ aggregate: 'bookings', key: b3, kind: 'fields' });
  await own.raw(`DELETE FROM bookings.bookings WHERE id = ?`, [b4]);
  planted.push({ aggregate: 'bookings', key: b4, kind: 'missing_in_own' });
  await legacy.raw(`DELETE FROM public.bookings WHERE id = ?`, [b5]);
  planted.push({ aggregate: 'bookings', key: b5, kind: 'missing_in_legacy' });
  // the orphan: an old booking whose seat has no snapshot and is gone from the catalog — the booking
  // schema requires a seat snapshot, so it cannot be placed there
  await own.raw(`DELETE FROM bookings.bookings WHERE id = ?`, [b6]);
  const seatRow = await one(legacy, `SELECT min(id::text) AS id FROM public.booking_seats WHERE booking_id = ?`, [b6]);
  await legacy.raw(`UPDATE public.booking_seats SET seat_snapshot = NULL, seat_id = ? WHERE id = ?`, [randomUUID(), seatRow]);
  planted.push({ aggregate: 'bookings', key: b6, kind: 'orphan' });
  return { planted, orphan: { key: b6, seatRow } };
}

/** The run's findings as planted-shaped records, for an exact comparison. */
export function found(reports: AggregateReport[], withFields: ReadonlySet<string>): Planted[] {
  return reports.flatMap((r) => r.findings.map((f) => ({
    aggregate: r.aggregate, key: f.key, kind: f.kind,
    ...(f.kind === 'fields' && withFields.has(f.key) ? { fields: f.fields.map((d) => d.field).sort() } : {}),
  })));
}

export const byKey = (a: Planted, b: Planted) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** The whole scenario; the two test files differ only in where the own schemas are. */
export async function scenario(t: ExecutionContext, rig: Rig): Promise<void> {
  const before = await run(rig);
  t.deepEqual(before.filter((r) => r.status !== 'clean').map((r) => `${r.module}/${r.aggregate}: ${r.error ?? JSON.stringify(r.counts)}`), [], 'a freshly backfilled pair is clean');
  const bookings = before.find((r) => r.aggregate === 'bookings')!;
  t.true(bookings.rowsCompared >= BOOKINGS - 10, `compared ${bookings.rowsCompared} bookings`);

  const { planted, orphan } = await plant(rig);
  const exactFields = new Set(planted.filter((p) => p.fields).map((p) => p.key));
  const expected = [...planted].sort(byKey);

  const detected = await run(rig);
  t.deepEqual(found(detected, exactFields).sort(byKey), expected, 'the run finds exactly what was planted');
  t.deepEqual(detected.filter((r) => r.status !== 'clean').map((r) => r.aggregate).sort(), ['bookings', 'users']);
  const orphanFinding = detected.flatMap((r) => r.findings).find((f) => f.key === orphan.key)!;
  t.regex(orphanFinding.reason ?? '', /booking_seats\.seat_snapshot cannot be empty/);
  const changedOnOwn = detected.flatMap((r) => r.findings).find((f) => f.kind === 'fields' && f.fields[0]?.field === 'email')!;
  t.like(changedOnOwn.fields[0], { own: 'changed-on-own@example.com' }, 'both values are reported');

  // a dry run says what it would write, in the phase's direction (legacy → own before READ_NEW), and writes nothing
  const dry = await run(rig, { modules: ['auth', 'booking'], repair: 'dry_run' });
  const outcome = (key: string) => dry.flatMap((r) => r.findings).find((f) => f.key === key)?.repair;
  const p = (kind: Planted['kind'], aggregate: string) => planted.find((x) => x.kind === kind && x.aggregate === aggregate)!.key;
  t.is(outcome(p('missing_in_own', 'users')), 'would_insert');
  t.is(outcome(p('missing_in_legacy', 'users')), 'would_delete');
  t.is(outcome(p('fields', 'users')), 'would_update');
  t.is(outcome(orphan.key), 'skipped');

  // --apply repairs everything but the orphan, and the run says so (what it detected first: the dry run changed nothing)
  const applied = await run(rig, { modules: ['auth', 'booking'], repair: 'apply' });
  t.deepEqual(found(applied, exactFields).sort(byKey), expected, 'the dry run changed nothing');
  const remaining = applied.flatMap((r) => r.findings.filter((f) => f.stillDifferent !== false).map((f) => f.key));
  t.deepEqual(remaining, [orphan.key], 'only the orphan is still different');
  t.like(applied.find((r) => r.aggregate === 'bookings')!.remaining, { orphan: 1, fields: 0, missing_in_own: 0, missing_in_legacy: 0 });
  const repaired = applied.flatMap((r) => r.findings).find((f) => f.key === planted.find((x) => x.fields?.includes('full_name'))!.key)!;
  t.like(repaired, { repair: 'updated', stillDifferent: false });
  t.like(repaired.after as object, { full_name: 'Changed On Legacy' }, 'the own side now holds the legacy value (before/after recorded)');
  t.is(await count(rig.own, `SELECT count(*) AS n FROM auth.users WHERE id = ?`, [p('missing_in_legacy', 'users')]), 0, 'the row only own had is deleted');

  // the orphan, fixed at its source by hand, is copied by the next repair; then everything is clean
  await rig.legacy.raw(`UPDATE public.booking_seats SET seat_snapshot = '{"row": "Z", "number": 99, "type": "standard"}' WHERE id = ?`, [orphan.seatRow]);
  const fixed = await run(rig, { modules: ['booking'], repair: 'apply' });
  t.deepEqual(fixed[0]!.findings.map((f) => [f.key, f.kind, f.repair]), [[orphan.key, 'missing_in_own', 'inserted']]);
  const after = await run(rig);
  t.deepEqual(after.filter((r) => r.status !== 'clean').map((r) => `${r.module}/${r.aggregate}`), [], 'a second run is clean');

  // from READ_NEW on the module's schema is primary: a repair writes the legacy tables from it
  const [b7, b8] = (await Promise.all([6, 7].map((n) => one(rig.legacy, `SELECT id::text FROM public.bookings WHERE status = 'cancelled' ORDER BY id OFFSET ? LIMIT 1`, [n])))) as [string, string];
  await rig.legacy.raw(`UPDATE public.bookings SET cancel_reason = 'changed on legacy' WHERE id = ?`, [b7]);
  await rig.own.raw(`DELETE FROM bookings.bookings WHERE id = ?`, [b8]);
  const readNew = await run(rig, { modules: ['booking'], repair: 'apply', phase: 'READ_NEW' });
  t.deepEqual(readNew[0]!.findings.map((f) => [f.key, f.kind, f.repair, f.stillDifferent]).sort(), [[b7, 'fields', 'updated', false], [b8, 'missing_in_own', 'deleted', false]].sort());
  t.is(await count(rig.legacy, `SELECT count(*) AS n FROM public.bookings WHERE id = ? AND cancel_reason IS DISTINCT FROM 'changed on legacy'`, [b7]), 1, 'legacy took the own value');
  t.is(await count(rig.legacy, `SELECT count(*) AS n FROM public.bookings WHERE id = ?`, [b8]), 0, 'legacy lost the row own does not have');
  t.deepEqual((await run(rig, { modules: ['booking'] }))[0]!.status, 'clean');
}
