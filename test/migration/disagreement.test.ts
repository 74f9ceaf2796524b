import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createLegacyUserStore } from '../../src/modules/auth/internal/legacy-user-store.ts';
import { createOwnUserStore } from '../../src/modules/auth/internal/own-user-store.ts';
import { USER_STORE_METHODS, type UserStore } from '../../src/modules/auth/internal/user-store.ts';
import { createPool } from '../../src/platform/db.ts';
import { transactionWithRetry } from '../../src/platform/db-retry.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { compareSides, createStranglerRig, type StranglerRig } from '../helpers/strangler.ts';

/**
 * While the write primary switches sides, processes disagree about the flag for up to the refresh
 * interval: here one process still writes the legacy tables first (DUAL_WRITE) while the other already
 * writes the own schema first (READ_NEW). Both update the same users at the same moments — one the
 * password hash, the other the role. Afterwards both sides must be equal and hold BOTH updates of every
 * round: neither process's copy may overwrite the other's write.
 */
let db: TestDatabase;
let legacyFirst: StranglerRig;
let ownFirst: StranglerRig;
test.before(async () => {
  db = await createTestDatabase();
  legacyFirst = await createStranglerRig(db, { dual_write_auth_db: true });
  ownFirst = await createStranglerRig(db, { dual_write_auth_db: true, read_from_new_auth_db: true });
});
test.after.always(async () => {
  await legacyFirst?.close();
  await ownFirst?.close();
  await db?.drop();
});

const routed = (rig: StranglerRig) =>
  rig.strangler.router.route({ module: 'auth', name: 'users', legacy: createLegacyUserStore('public'), own: createOwnUserStore(), methods: USER_STORE_METHODS }) as UserStore;

test('two processes writing the same aggregates from opposite primaries lose no update and end equal', async (t) => {
  t.is(legacyFirst.strangler.router.describe('auth').writes, 'legacy');
  t.is(ownFirst.strangler.router.describe('auth').writes, 'own');
  const a = routed(legacyFirst);
  const b = routed(ownFirst);
  const dbA = legacyFirst.databases.forModule('auth');
  const dbB = ownFirst.databases.forModule('auth');
  const ids = Array.from({ length: 30 }, () => randomUUID());
  // half created by each process
  await Promise.all(ids.map((id, i) => (i % 2 ? a : b).insert(i % 2 ? dbA : dbB, { id, email: `d-${id}@example.com`, fullName: 'D', passwordHash: 'h0', role: 'user' })));
  const rounds = 6;
  let retries = 0;
  for (let round = 1; round <= rounds; round++) {
    const role = round % 2 ? 'admin' : 'user';
    await Promise.all(
      ids.flatMap((id) => [
        a.updatePasswordHash(dbA, id, `hash-${round}`),
        b.updateRole(dbB, id, role),
        // and inside callers' transactions, the other way round — retried on a deadlock, as services do
        transactionWithRetry(dbB, (trx) => b.updatePasswordHash(trx, id, `hash-${round}`), { onRetry: () => retries++ }),
        transactionWithRetry(dbA, (trx) => a.updateRole(trx, id, role), { onRetry: () => retries++ }),
      ]),
    );
  }
  const admin = createPool(db.url, { max: 2 });
  try {
    t.deepEqual(await compareSides(admin, legacyFirst.mapping('auth')), [], 'the two sides differ');
    const last = rounds % 2 ? 'admin' : 'user';
    const legacy = (await admin('public.users').whereIn('id', ids).select('hashed_password', 'role')) as { hashed_password: string; role: string }[];
    const own = (await admin('auth.users').whereIn('id', ids).select('password_hash', 'role')) as { password_hash: string; role: string }[];
    t.is(legacy.length, ids.length);
    t.true(legacy.every((r) => r.hashed_password === `hash-${rounds}` && r.role === last), 'an update was lost on the legacy side');
    t.true(own.every((r) => r.password_hash === `hash-${rounds}` && r.role === last), 'an update was lost on the own side');
    t.log(`${ids.length} users × ${rounds} rounds × 4 concurrent writes; ${retries} caller transactions retried after a deadlock`);
  } finally {
    await admin.destroy();
  }
});
