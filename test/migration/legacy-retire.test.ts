import test from 'ava';
import { MODULE_SCHEMAS, roleFor, type ModuleName } from '../../src/platform/config.ts';
import { createPool, type Knex } from '../../src/platform/db.ts';
import { FLAGS, FLAG_NAMES, type FlagName } from '../../src/platform/flag-names.ts';
import { bootstrapFlagStore } from '../../src/migration/cutover/flag-store.ts';
import { loadPlan } from '../../src/migration/cutover/plan.ts';
import { readState } from '../../src/migration/cutover/state.ts';
import { moveLegacyTables, retirementChecks } from '../../src/migration/legacy/retire.ts';
import { MODULE_REGISTRY } from '../../src/module-registry.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

/**
 * `boxoffice legacy retire`: a module NEW_ONLY for the plan's time, with nobody else on its tables, has
 * them moved into legacy_archive — nothing dropped, --restore moves them back; a module whose tables other
 * modules still use on the shared side is refused, naming who.
 */
let db: TestDatabase;
let admin: Knex;
test.before(async () => {
  db = await createTestDatabase();
  admin = createPool(db.url, { max: 2 });
});
test.after.always(async () => {
  await admin?.destroy();
  await db?.drop();
});

const config = () => loadConfig({ DATABASE_URL: db.url });
const roleOf = (m: ModuleName | 'legacy' | 'migration') => roleFor({ DB_ROLE_PREFIX: 'boxoffice_' }, m === 'legacy' || m === 'migration' ? m : MODULE_SCHEMAS[m]);

// table statistics reach pg_stat_user_tables within about a second of a backend's activity
async function deps(newOnly: ModuleName[], watchMs = 200) {
  const values = Object.fromEntries(FLAG_NAMES.map((n) => [n, FLAGS[n].default])) as Record<FlagName, boolean>;
  for (const m of newOnly) values[`stop_legacy_writes_${m}`] = true;
  const plan = loadPlan('feature-flags/plan.yaml');
  const state = await readState(admin, bootstrapFlagStore(values), plan);
  return { admin, plan, state, legacySchema: 'public', roleOf, watchMs, now: new Date(Date.now() + 2 * 86_400_000) };
}

test.serial('a NEW_ONLY module with no other users of its tables: retired into legacy_archive and restored', async (t) => {
  await admin('migration.cutover_log').insert({ actor: 't', action: 'advance', step: 'databases/notification/NEW_ONLY', module: 'notification', from_phase: 'READ_NEW', to_phase: 'NEW_ONLY' });
  await admin.raw(`INSERT INTO public.notifications (id, user_id, type, message) VALUES (gen_random_uuid(), gen_random_uuid(), 'welcome', 'hi')`);
  const mapping = MODULE_REGISTRY.notification.mapping(config());
  const checks = await retirementChecks({ ...(await deps(['notification'])), mapping });
  t.deepEqual(checks.filter((c) => !c.ok), [], 'a check failed');
  await moveLegacyTables({ admin, mapping, legacySchema: 'public', roleOf });
  t.falsy((await admin.raw(`SELECT to_regclass('public.notifications') AS r`)).rows[0].r);
  t.is(Number((await admin.raw('SELECT count(*) AS n FROM legacy_archive.notifications')).rows[0].n), 1, 'the rows were kept');
  await moveLegacyTables({ admin, mapping, legacySchema: 'public', roleOf }, true);
  t.is(Number((await admin.raw('SELECT count(*) AS n FROM public.notifications')).rows[0].n), 1, 'restored with its rows');
});

test.serial('refused while the module is not NEW_ONLY, other modules still use its tables, or someone reads them', async (t) => {
  const mapping = MODULE_REGISTRY.auth.mapping(config());
  const reading = setInterval(() => void admin.raw('SELECT count(*) FROM public.users').catch(() => undefined), 20);
  t.teardown(() => clearInterval(reading));
  const checks = await retirementChecks({ ...(await deps([], 2_500)), mapping });
  const failed = Object.fromEntries(checks.filter((c) => !c.ok).map((c) => [c.guard, c.detail]));
  t.regex(failed['new_only_held'] ?? '', /auth is LEGACY, not NEW_ONLY/);
  t.regex(failed['no_other_readers'] ?? '', /booking \(LEGACY\) may still use users/);
  t.regex(failed['no_activity'] ?? '', /still read or written: users/);
});
