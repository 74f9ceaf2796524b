import type { ModuleName } from '../config.ts';
import type { Db, Knex } from '../db.ts';
import type { Side } from './aggregate-mapping.ts';

/**
 * Every store of every module has one shape: an object of async methods whose first argument is the
 * pool or an open transaction (`Db`). A module builds its store twice — on the legacy shared tables and
 * on its own schema — and asks the platform for the one it uses; where its calls go is then decided per
 * call, from the module's cutover phase, by the strangler routing store (src/migration), or pinned to one
 * side when that tooling is absent or STORE_<MODULE> pins it.
 *
 * Each method is declared with how it may be routed:
 *  - `read`:  reads only; in READ_NEW it goes to the own schema for the rollout's share of users, and with
 *             shadow reads on it is also run on the other side and compared. `{ read: 'aggregate' }`
 *             says which aggregate its results are (compared through that aggregate's mapping).
 *  - `write`: changes data; always on the write primary (the other side is kept equal by the database's
 *             dual-write triggers, in the same transaction).
 *  - `lock`:  reads that lock rows for a following write; always on the write primary.
 * A read called inside a transaction goes to the write primary too (it reads what that transaction wrote).
 */
export type MethodRoute = 'read' | 'write' | 'lock' | AggregateRead;

/** A read whose results are records of an aggregate (by `id`), optionally with result fields not compared. */
export interface AggregateRead {
  read: string;
  /** result fields that legitimately differ between the stores, each explained where it is declared */
  ignore?: string[];
}

// a method may insist on an open transaction (`trx: Knex.Transaction`) — e.g. one that takes a
// transaction-scoped lock — or take either (`db: Db`); the routing store passes on what it was given
type AnyMethod = (db: Knex.Transaction, ...args: never[]) => Promise<unknown>;

/** One entry per method of the store; a method missing here, or not taking `db` first, does not compile. */
export type StoreMethods<S> = {
  [K in keyof S]-?: S[K] extends AnyMethod ? MethodRoute : never;
};

export interface RoutableStore<S> {
  module: ModuleName;
  /** names the store in logs, metrics and shadow-read records, e.g. `users` */
  name: string;
  legacy: S;
  own: S;
  methods: StoreMethods<S>;
}

export interface StoreRouter {
  route<S extends object>(store: RoutableStore<S>): S;
  /** where a module's calls go right now, for health checks and logs */
  describe(module: ModuleName): StoreRouting;
}

export interface StoreRouting {
  /** LEGACY, DUAL_WRITE, …, or PINNED */
  phase: string;
  writes: Side;
  /** where reads go (`split` while READ_NEW is partly rolled out) */
  reads: Side | 'split';
  pinned?: Side;
}

/** The router without the strangler tooling: every call of a module goes to one side. */
export function createPinnedRouter(sideOf: (module: ModuleName) => Side): StoreRouter {
  return {
    route<S extends object>(store: RoutableStore<S>): S {
      return sideOf(store.module) === 'own' ? store.own : store.legacy;
    },
    describe(module) {
      const side = sideOf(module);
      return { phase: 'PINNED', writes: side, reads: side, pinned: side };
    },
  };
}
