import test from 'ava';
import { MODULE_NAMES, type ModuleName } from '../../src/platform/config.ts';
import { createPool } from '../../src/platform/db.ts';
import type { FlagName } from '../../src/platform/flag-names.ts';
import { phaseFlags } from '../../src/migration/phases.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { compareSides, countSides, createStranglerRig, type StranglerRig } from '../helpers/strangler.ts';
import { writeMethods, type WriteExercise } from './write-exercise.ts';

/**
 * No write path can be missed: for every module, every method its stores declare as a write is called
 * on the routed store — in DUAL_WRITE (legacy tables first) and in READ_NEW (own schema first, copied
 * back) — and afterwards the legacy tables and the own schema hold the same aggregates, field for field,
 * through the module's mapping.
 */
async function exercisesOf(module: ModuleName): Promise<WriteExercise[]> {
  // each module's test folder has write-exercise.ts exporting `writeExercises`
  const loaded = (await import(`../modules/${module}/write-exercise.ts`).catch(() => ({}))) as { writeExercises?: WriteExercise[] };
  return loaded.writeExercises ?? [];
}

const PHASE_FLAGS = {
  DUAL_WRITE: (m: ModuleName) => [phaseFlags(m).dualWrite],
  READ_NEW: (m: ModuleName) => [phaseFlags(m).dualWrite, phaseFlags(m).readNew],
};

for (const [phase, flagsOf] of Object.entries(PHASE_FLAGS)) {
  let db: TestDatabase;
  let rig: StranglerRig;
  test.before(async () => {
    db = await createTestDatabase();
    const flags = Object.fromEntries(MODULE_NAMES.flatMap((m) => flagsOf(m).map((f) => [f, true]))) as Partial<Record<FlagName, boolean>>;
    rig = await createStranglerRig(db, flags);
  });
  test.after.always(async () => {
    await rig?.close();
    await db?.drop();
  });

  for (const module of MODULE_NAMES) {
    test.serial(`${phase} — ${module}: every write method leaves both sides equal`, async (t) => {
      const exercises = await exercisesOf(module);
      t.true(exercises.length > 0, `${module} has no write exercise`);
      for (const ex of exercises) {
        const pair = ex.store({ legacySchema: rig.config.LEGACY_SCHEMA });
        const called = new Set<string>();
        const routed = rig.strangler.router.route(pair) as Record<string, (...args: unknown[]) => Promise<unknown>>;
        const spy = new Proxy(routed, {
          get(target, name: string) {
            called.add(name);
            return target[name];
          },
        });
        await ex.exercise(spy, rig.databases.forModule(module));
        const missed = writeMethods(pair).filter((m) => !called.has(m));
        t.deepEqual(missed, [], `${module}/${pair.name}: write methods the exercise never called`);
      }
      const admin = createPool(db.url, { max: 2 });
      try {
        const counts = await countSides(admin, rig.mapping(module));
        t.true(Object.values(counts).some((c) => c.legacy > 0), `${module}: the exercise wrote nothing (${JSON.stringify(counts)})`);
        t.deepEqual(await compareSides(admin, rig.mapping(module)), [], `${module}: sides differ after dual-write`);
      } finally {
        await admin.destroy();
      }
    });
  }
}
