import type { ModuleName } from '../platform/config.ts';
import { currentContext } from '../platform/context.ts';
import { isTransaction, type Db, type Knex } from '../platform/db.ts';
import { transactionWithRetry } from '../platform/db-retry.ts';
import type { Logger } from '../platform/logger.ts';
import { otherSide, type Side } from '../platform/mapping/aggregate-mapping.ts';
import type { MethodRoute, RoutableStore, StoreRouter, StoreRouting } from '../platform/mapping/store-routing.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { DualWriteLeases } from './dual-write/leases.ts';
import { resolveRoute, type FlagReader, type ModuleRoute } from './phases.ts';
import type { ShadowReads } from './shadow/shadow-reads.ts';

export interface StranglerRouterOptions {
  flags: FlagReader;
  /** STORE_<MODULE>: modules pinned to one side (tests, emergencies) */
  pins: Partial<Record<ModuleName, Side>>;
  /** pools of modules whose own schema lives in a database of its own (<MODULE>_DATABASE_URL) */
  ownDatabases: Partial<Record<ModuleName, Knex>>;
  /** where a module's shadow reads run: a pool of their own, so they never hold up the module's requests */
  shadowDb?: (module: ModuleName) => Knex;
  leases: DualWriteLeases;
  shadow: ShadowReads;
  metrics: Metrics;
  logger: Logger;
}

type Method = (db: Db, ...args: unknown[]) => Promise<unknown>;

/**
 * The strangler routing store (ADR 0050): wraps a module's legacy and own stores into one, and decides
 * per call — from the module's phase, read from the flags at call time, so a flip needs no restart —
 * where the call goes:
 *   writes and locking reads → the write primary (legacy up to SHADOW_READ, own from READ_NEW on); while
 *     the phase dual-writes, this process first holds a dual-write lease, and the database's capture
 *     triggers copy the write to the other side in the same transaction (or queue it for a module in a
 *     database of its own). A write called outside a transaction gets one, so its copy commits with it.
 *   reads → legacy, or own in READ_NEW for the rollout's share of users (sticky), or own in NEW_ONLY;
 *     with shadow reads on, the other side is read beside it and the answers compared off the request.
 */
export function createStranglerRouter(options: StranglerRouterOptions): StoreRouter {
  const { flags, pins, ownDatabases, leases, shadow, logger } = options;
  const calls = options.metrics.counter('strangler_store_calls_total', 'Store calls by module, kind and the side that served them', ['module', 'kind', 'side']);
  const warned = new Set<ModuleName>();

  const routeOf = (module: ModuleName): ModuleRoute => {
    const route = resolveRoute(flags, module);
    if (route.writes === 'own' && ownDatabases[module]) {
      // the module's transactions (outbox, inbox) live in the main database until it is extracted
      if (!warned.has(module)) {
        warned.add(module);
        logger.error({ module, phase: route.phase }, 'own schema is in a database of its own: writes stay on the legacy tables until the module is extracted');
      }
      return { ...route, writes: 'legacy' };
    }
    return route;
  };

  function wrap<S extends object>(store: RoutableStore<S>, name: string, declared: MethodRoute): Method {
    const { module } = store;
    const kind = typeof declared === 'string' ? declared : 'read';
    // bound on first use, not per call: every store call of every request goes through here
    const bound: Partial<Record<Side, Method>> = {};
    const impl = (side: Side) => (bound[side] ??= bindMethod(store[side], name));
    const dbFor = (side: Side, given: Db): Db => (side === 'own' && !isTransaction(given) ? (ownDatabases[module] ?? given) : given);
    const call = (side: Side, db: Db, args: unknown[]) => {
      calls.inc({ module, kind, side });
      return impl(side)(dbFor(side, db), ...args);
    };

    return async (db: Db, ...args: unknown[]) => {
      const pinned = pins[module];
      if (pinned) return call(pinned, db, args);
      const route = routeOf(module);
      if (kind !== 'read' || isTransaction(db)) {
        if (kind === 'write' && route.dualWrite) {
          await leases.ensure(module, route.phase);
          if (!isTransaction(db)) return transactionWithRetry(db, (trx) => call(route.writes, trx, args));
        }
        return call(route.writes, db, args);
      }
      const context = currentContext();
      const side: Side = route.readsOwn({ ...(context?.userId ? { userId: context.userId } : {}), ...(context?.clientKey ? { sessionId: context.clientKey } : {}) })
        ? 'own'
        : 'legacy';
      if (!route.shadow || !shadow.take(module)) return call(side, db, args);
      const otherDb = otherSide(side) === 'own' && ownDatabases[module] ? ownDatabases[module] : (options.shadowDb?.(module) ?? db);
      const other = shadow.bounded(impl(otherSide(side))(otherDb, ...args));
      other.catch(() => undefined);
      let result: unknown;
      try {
        result = await call(side, db, args);
      } catch (err) {
        shadow.release();
        throw err;
      }
      shadow.compare(shadowCall(store, name, declared, args), side, result, other, async () => {
        const recheckDb = options.shadowDb?.(module) ?? db;
        const [legacy, own] = await Promise.all([impl('legacy')(dbFor('legacy', recheckDb), ...args), impl('own')(dbFor('own', recheckDb), ...args)]);
        return [legacy, own];
      });
      return result;
    };
  }

  return {
    route<S extends object>(store: RoutableStore<S>): S {
      const routed: Record<string, Method> = {};
      for (const [name, declared] of Object.entries(store.methods) as [string, MethodRoute][]) routed[name] = wrap(store, name, declared);
      return routed as S;
    },
    describe(module): StoreRouting {
      const pinned = pins[module];
      if (pinned) return { phase: 'PINNED', writes: pinned, reads: pinned, pinned };
      const route = routeOf(module);
      const reads = route.phase === 'READ_NEW' ? 'split' : route.readsOwn({}) ? 'own' : 'legacy';
      return { phase: route.phase, writes: route.writes, reads };
    },
  };
}

function bindMethod(target: object, name: string): Method {
  const methods = target as Record<string, Method>;
  return methods[name]!.bind(methods);
}

function shadowCall<S extends object>(store: RoutableStore<S>, method: string, declared: MethodRoute, args: unknown[]) {
  return {
    module: store.module,
    store: store.name,
    method,
    aggregate: typeof declared === 'object' ? declared.read : undefined,
    ignore: typeof declared === 'object' ? (declared.ignore ?? []) : [],
    args,
  };
}
