import type { ModuleName } from '../../src/platform/config.ts';
import type { Knex } from '../../src/platform/db.ts';
import type { RoutableStore } from '../../src/platform/mapping/store-routing.ts';

/**
 * How a module's test proves that every write path of a store reaches the other side in DUAL_WRITE:
 * `store()` gives the store pair (legacy, own, method declarations) as the module builds it; `exercise`
 * calls EVERY method declared `write` at least once on the routed store (seeding whatever it needs through
 * the routed store too). test/migration/write-coverage.test.ts runs each exercise, fails when a declared
 * write method was not called, then compares both sides of the module through its mapping.
 */
export interface WriteExercise<S extends object = object> {
  module: ModuleName;
  store(options: { legacySchema: string }): RoutableStore<S>;
  /** `db` is the module's pool (its role), as the module's services use it */
  exercise(store: S, db: Knex): Promise<void>;
}

/** The names of the methods a store declares as writes. */
export function writeMethods(store: RoutableStore<object>): string[] {
  return Object.entries(store.methods)
    .filter(([, route]) => route === 'write')
    .map(([name]) => name);
}
