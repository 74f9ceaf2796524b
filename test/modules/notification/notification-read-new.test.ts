import test from 'ava';
import { phaseFlags } from '../../../src/migration/phases.ts';
import { createPool } from '../../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { compareSides, countSides, createStranglerRig, type StranglerRig } from '../../helpers/strangler.ts';
import { writeExercises } from './write-exercise.ts';

/**
 * The other direction of write-coverage.test.ts: in READ_NEW the own schema is the write primary and
 * every write is copied to the shared table in the same transaction — so a copy the legacy side refuses
 * (a missing grant, a narrower column) would fail the module's own writes.
 */
let db: TestDatabase;
let rig: StranglerRig;
test.before(async () => {
  db = await createTestDatabase();
  const f = phaseFlags('notification');
  rig = await createStranglerRig(db, { [f.dualWrite]: true, [f.readNew]: true });
});
test.after.always(async () => {
  await rig?.close();
  await db?.drop();
});

test('READ_NEW: every write lands on the own schema first and the shared table ends equal', async (t) => {
  t.like(rig.strangler.router.describe('notification'), { phase: 'READ_NEW', writes: 'own' });
  for (const ex of writeExercises) {
    await ex.exercise(rig.strangler.router.route(ex.store({ legacySchema: rig.config.LEGACY_SCHEMA })), rig.databases.forModule('notification'));
  }
  const admin = createPool(db.url, { max: 2 });
  try {
    const counts = await countSides(admin, rig.mapping('notification'));
    t.deepEqual(counts, { notifications: { legacy: 3, own: 3 } });
    t.deepEqual(await compareSides(admin, rig.mapping('notification')), []);
  } finally {
    await admin.destroy();
  }
});
