import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createLegacyUserStore } from '../../src/modules/auth/internal/legacy-user-store.ts';
import { createOwnUserStore } from '../../src/modules/auth/internal/own-user-store.ts';
import { USER_STORE_METHODS, type UserStore } from '../../src/modules/auth/internal/user-store.ts';
import { createPool, type Knex } from '../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/events.ts';
import { createStranglerRig, type StranglerRig } from '../helpers/strangler.ts';

/**
 * Shadow reads on real tables (SHADOW_READ): the legacy answer is served; the own schema is read beside
 * it; a planted difference is explained through the mapping — which user, which field, both values — in
 * migration.shadow_mismatches, and every comparison is counted for the cutover guard.
 */
let db: TestDatabase;
let admin: Knex;
let rig: StranglerRig;
test.before(async () => {
  db = await createTestDatabase();
  admin = createPool(db.url, { max: 2 });
  rig = await createStranglerRig(db, { dual_write_auth_db: true, verify_auth_reads: true }, { SHADOW_READ_RECHECK_MS: '20' });
});
test.after.always(async () => {
  await rig?.close();
  await admin?.destroy();
  await db?.drop();
});

test('a planted difference is recorded per field with both values; the legacy answer is served', async (t) => {
  const users = rig.strangler.router.route({ module: 'auth', name: 'users', legacy: createLegacyUserStore('public'), own: createOwnUserStore(), methods: USER_STORE_METHODS }) as UserStore;
  const pool = rig.databases.forModule('auth');
  const [same, drifted] = [randomUUID(), randomUUID()];
  await users.insert(pool, { id: same, email: `s-${same}@example.com`, fullName: 'Same', passwordHash: 'h', role: 'user' });
  await users.insert(pool, { id: drifted, email: `d-${drifted}@example.com`, fullName: 'Legacy Name', passwordHash: 'h', role: 'user' });
  // drift the own copy behind the dual-write's back (as a bug or a manual fix would)
  await admin.transaction(async (trx) => {
    await trx.raw(`SET LOCAL boxoffice.sync = 'off'`);
    await trx('auth.users').where({ id: drifted }).update({ full_name: 'Own Name' });
  });
  t.is((await users.findById(pool, same))?.fullName, 'Same');
  t.is((await users.findById(pool, drifted))?.fullName, 'Legacy Name', 'the legacy answer is served');
  const found = await waitFor('the mismatch recorded', async () => {
    const rows = (await admin('migration.shadow_mismatches').where({ module: 'auth' })) as { key: string; kind: string; method: string; fields: unknown }[];
    return rows.length > 0 ? rows : undefined;
  });
  t.is(found.length, 1, 'only the drifted user mismatched');
  t.like(found[0], { key: drifted, kind: 'fields', method: 'users.findById' });
  t.deepEqual(found[0]!.fields, [{ field: 'full_name', legacy: 'Legacy Name', own: 'Own Name' }]);
  await rig.strangler.services.find((s) => s.name === 'shadow-read-recorder')!.stop();
  const [stats] = (await admin('migration.shadow_read_stats').where({ module: 'auth' })) as { compared: string; mismatched: string }[];
  t.is(Number(stats!.compared), 2);
  t.is(Number(stats!.mismatched), 1);
});
