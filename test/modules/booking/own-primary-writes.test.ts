import test from 'ava';
import { createPool } from '../../../src/platform/db.ts';
import { phaseFlags } from '../../../src/migration/phases.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { compareSides, countSides, createStranglerRig, type StranglerRig } from '../../helpers/strangler.ts';
import { writeMethods } from '../../migration/write-exercise.ts';
import { writeExercises } from './write-exercise.ts';

/**
 * The write-coverage test runs booking's writes legacy-first (DUAL_WRITE); this runs them own-first
 * (READ_NEW, the own schema is the write primary and the shared tables are kept equal by the triggers),
 * the direction a rollback from READ_NEW relies on.
 */
let db: TestDatabase;
let rig: StranglerRig;
test.before(async () => {
  db = await createTestDatabase();
  const flags = phaseFlags('booking');
  rig = await createStranglerRig(db, { [flags.dualWrite]: true, [flags.readNew]: true });
});
test.after.always(async () => {
  await rig?.close();
  await db?.drop();
});

test('booking: every write method in READ_NEW (own first) leaves both sides equal', async (t) => {
  t.is(rig.strangler.router.describe('booking').writes, 'own');
  for (const ex of writeExercises) {
    const pair = ex.store({ legacySchema: rig.config.LEGACY_SCHEMA });
    const called = new Set<string>();
    const routed = rig.strangler.router.route(pair) as Record<string, unknown>;
    const spy = new Proxy(routed, { get: (target, name: string) => (called.add(name), target[name]) });
    await ex.exercise(spy, rig.databases.forModule('booking'));
    t.deepEqual(writeMethods(pair).filter((m) => !called.has(m)), []);
  }
  const admin = createPool(db.url, { max: 2 });
  try {
    const counts = await countSides(admin, rig.mapping('booking'));
    t.true(counts['bookings']!.own > 0 && counts['bookings']!.own === counts['bookings']!.legacy, JSON.stringify(counts));
    t.deepEqual(await compareSides(admin, rig.mapping('booking')), []);
  } finally {
    await admin.destroy();
  }
});
