import test from 'ava';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createRig, scenario, type Rig } from './reconcile-scenario.ts';

/**
 * Reconciliation with auth's and booking's own schemas in a database of their own (AUTH_DATABASE_URL,
 * BOOKING_DATABASE_URL): no shared snapshot, so findings are read again before they are reported.
 */
let main: TestDatabase;
let second: TestDatabase;
let rig: Rig;
test.before(async () => {
  [main, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  rig = await createRig(main, second);
});
test.after.always(async () => {
  await rig?.close();
  await Promise.all([main?.drop(), second?.drop()]);
});

test('planted differences of every kind on both sides, own schemas in another database: found exactly, repaired, then clean', async (t) => {
  await scenario(t, rig);
});
