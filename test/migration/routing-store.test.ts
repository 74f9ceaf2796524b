import test from 'ava';
import type { ModuleName } from '../../src/platform/config.ts';
import { runWithContext } from '../../src/platform/context.ts';
import type { Db } from '../../src/platform/db.ts';
import type { FlagContext, FlagName } from '../../src/platform/flags.ts';
import type { RoutableStore } from '../../src/platform/mapping/store-routing.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import type { DualWriteLeases } from '../../src/migration/dual-write/leases.ts';
import { resolveRoute, WRITE_PATH_USER, type FlagReader } from '../../src/migration/phases.ts';
import { createStranglerRouter } from '../../src/migration/routing-store.ts';
import { ShadowReads } from '../../src/migration/shadow/shadow-reads.ts';
import type { ShadowMismatch, ShadowRecorder } from '../../src/migration/shadow/shadow-recorder.ts';
import { testLogger, waitFor } from '../helpers/events.ts';

/**
 * Unit tests of the routing decisions (pure logic, with stand-in stores and flags): which side serves
 * each kind of call in each phase, READ_NEW's sticky split, and shadow reads that never delay or fail
 * the served read. The database side of routing is covered by the write-coverage, disagreement and
 * cutover tests.
 */
interface Store {
  find(db: Db, id: string): Promise<{ id: string; v: string } | undefined>;
  save(db: Db, id: string): Promise<void>;
  lock(db: Db, id: string): Promise<void>;
}

function stores(calls: string[], values: { legacy?: () => Promise<string>; own?: () => Promise<string> } = {}): RoutableStore<Store> {
  const side = (name: 'legacy' | 'own'): Store => ({
    find: async (_db, id) => {
      calls.push(`${name}.find`);
      return { id, v: await (values[name]?.() ?? Promise.resolve('same')) };
    },
    save: async (db) => void calls.push(`${name}.save${(db as { isTransaction?: boolean }).isTransaction ? ' in trx' : ''}`),
    lock: async () => void calls.push(`${name}.lock`),
  });
  return { module: 'auth', name: 'things', legacy: side('legacy'), own: side('own'), methods: { find: 'read', save: 'write', lock: 'lock' } };
}

/** flags as Unleash would answer them: `readNewShare` % of users (by a stable hash), the write path always */
function flags(on: Partial<Record<FlagName, boolean>>, readNewShare = 100): FlagReader {
  return {
    isEnabled(name: FlagName, context?: FlagContext) {
      if (!on[name]) return false;
      if (name !== 'read_from_new_auth_db' || context?.userId === WRITE_PATH_USER || readNewShare >= 100) return true;
      const key = context?.userId ?? context?.sessionId ?? '';
      let h = 0;
      for (const c of key) h = (h * 31 + c.charCodeAt(0)) % 100;
      return h < readNewShare;
    },
  };
}

const pool = { transaction: async (fn: (trx: Db) => Promise<unknown>) => fn({ isTransaction: true } as unknown as Db) } as unknown as Db;
const trx = { isTransaction: true } as unknown as Db;

function harness(flagReader: FlagReader, options: { timeoutMs?: number; recheckMs?: number; sampleRate?: number; maxInFlight?: number } = {}) {
  const found: ShadowMismatch[] = [];
  const outcomes: string[] = [];
  let ensured = 0;
  const recorder = { mismatches: async (m: ShadowMismatch[]) => void found.push(...m), count: (_m: ModuleName, o: string) => void outcomes.push(o) } as unknown as ShadowRecorder;
  const metrics = createMetrics();
  const shadow = new ShadowReads({
    mappings: new Map(), docsDb: () => { throw new Error('no docs in unit tests'); }, recorder,
    sampleRate: options.sampleRate ?? 1, timeoutMs: options.timeoutMs ?? 100, maxInFlight: options.maxInFlight ?? 10, recheckMs: options.recheckMs ?? 0,
    metrics, logger: testLogger(),
  });
  const leases = { ensure: async () => void ensured++ } as unknown as DualWriteLeases;
  const router = createStranglerRouter({ flags: flagReader, pins: {}, ownDatabases: {}, leases, shadow, metrics, logger: testLogger() });
  return { router, found, outcomes, ensured: () => ensured };
}

test('phases from flags: where writes, locks and reads go', async (t) => {
  const cases: [Partial<Record<FlagName, boolean>>, ReturnType<typeof resolveRoute>['phase'], string, string][] = [
    [{}, 'LEGACY', 'legacy', 'legacy'],
    [{ dual_write_auth_db: true }, 'DUAL_WRITE', 'legacy', 'legacy'],
    [{ dual_write_auth_db: true, verify_auth_reads: true }, 'SHADOW_READ', 'legacy', 'legacy'],
    [{ dual_write_auth_db: true, read_from_new_auth_db: true }, 'READ_NEW', 'own', 'own'],
    [{ dual_write_auth_db: true, read_from_new_auth_db: true, stop_legacy_writes_auth: true }, 'NEW_ONLY', 'own', 'own'],
  ];
  for (const [on, phase, writes, reads] of cases) {
    const calls: string[] = [];
    const { router } = harness(flags(on));
    const store = router.route(stores(calls, { legacy: async () => 'legacy', own: async () => 'own' }));
    await store.save(pool, 'k');
    await store.lock(trx, 'k');
    const served = await store.find(pool, 'k');
    t.is(resolveRoute(flags(on), 'auth').phase, phase);
    t.deepEqual(calls.slice(0, 2), [`${writes}.save${['DUAL_WRITE', 'SHADOW_READ', 'READ_NEW'].includes(phase) ? ' in trx' : ''}`, `${writes}.lock`], phase);
    t.is(served?.v, reads, `${phase}: the read was served by the wrong side`);
    t.is(calls.length, phase === 'SHADOW_READ' ? 4 : 3, `${phase}: shadow reads only in SHADOW_READ here`);
  }
});

test('a write in a dual-write phase holds a lease first and gets a transaction; a read inside one goes to the write primary', async (t) => {
  const calls: string[] = [];
  const h = harness(flags({ dual_write_auth_db: true, verify_auth_reads: true, read_from_new_auth_db: true }, 0));
  const store = h.router.route(stores(calls));
  await store.save(pool, 'k');
  t.is(h.ensured(), 1);
  await store.find(trx, 'k');
  t.deepEqual(calls, ['own.save in trx', 'own.find'], 'the in-transaction read went to the write primary and was not shadowed');
});

test('READ_NEW splits reads sticky per user; anonymous reads split by client key', async (t) => {
  const calls: string[] = [];
  const { router } = harness(flags({ dual_write_auth_db: true, read_from_new_auth_db: true }, 50));
  const store = router.route(stores(calls));
  const sides = new Map<string, Set<string>>();
  for (let u = 0; u < 60; u++) {
    for (let i = 0; i < 5; i++) {
      calls.length = 0;
      await runWithContext({ correlationId: 'c', userId: `user-${u}` }, () => store.find(pool, 'k'));
      sides.set(`user-${u}`, (sides.get(`user-${u}`) ?? new Set()).add(calls[0]!));
    }
  }
  t.true([...sides.values()].every((s) => s.size === 1), 'a user was served by both sides');
  const used = new Set([...sides.values()].map((s) => [...s][0]));
  t.deepEqual([...used].sort(), ['legacy.find', 'own.find'], 'both sides serve a share');
  calls.length = 0;
  await runWithContext({ correlationId: 'c', clientKey: '10.0.0.7' }, async () => {
    for (let i = 0; i < 5; i++) await store.find(pool, 'k');
  });
  t.is(new Set(calls).size, 1, 'an anonymous client was served by both sides');
});

test('a slow other side never delays the served read: it is cut off and counted as a timeout', async (t) => {
  const calls: string[] = [];
  const h = harness(flags({ dual_write_auth_db: true, verify_auth_reads: true }), { timeoutMs: 20 });
  const store = h.router.route(stores(calls, { own: () => new Promise((r) => setTimeout(() => r('late'), 300)) }));
  const started = performance.now();
  const got = await store.find(pool, 'k');
  t.true(performance.now() - started < 100, 'the served read waited for the shadow read');
  t.is(got?.v, 'same');
  await waitFor('the shadow read counted', () => h.outcomes.length === 1);
  t.deepEqual(h.outcomes, ['timeout']);
});

test('a persistent difference is recorded with both values; a transient one (gone at the re-check) is not', async (t) => {
  let ownValue = 'drifted';
  const h = harness(flags({ dual_write_auth_db: true, verify_auth_reads: true }), { recheckMs: 10 });
  const store = h.router.route(stores([], { own: async () => ownValue }));
  await store.find(pool, 'k1');
  await waitFor('the first comparison done', () => h.outcomes.length === 1);
  t.is(h.found.length, 1);
  t.like(h.found[0], { module: 'auth', method: 'things.find', kind: 'result' });
  t.deepEqual(h.found[0]!.fields, [{ field: 'v', legacy: 'same', own: 'drifted' }]);
  // different at first, equal when read again: a write was in flight
  let first = true;
  const store2 = h.router.route(stores([], { own: async () => (first ? ((first = false), 'in-flight') : 'same') }));
  await store2.find(pool, 'k2');
  await waitFor('the second comparison done', () => h.outcomes.length === 2);
  t.is(h.found.length, 1, 'a transient difference was recorded');
  t.deepEqual(h.outcomes, ['mismatch', 'match']);
});

test('shadow reads are sampled and bounded in number', async (t) => {
  const none = harness(flags({ dual_write_auth_db: true, verify_auth_reads: true }), { sampleRate: 0 });
  const calls: string[] = [];
  await none.router.route(stores(calls)).find(pool, 'k');
  t.deepEqual(calls, ['legacy.find'], 'a sample rate of 0 still shadowed a read');
  const one = harness(flags({ dual_write_auth_db: true, verify_auth_reads: true }), { maxInFlight: 1, timeoutMs: 200 });
  const calls2: string[] = [];
  const store = one.router.route(stores(calls2, { own: () => new Promise((r) => setTimeout(() => r('same'), 50)) }));
  await Promise.all([store.find(pool, 'a'), store.find(pool, 'b')]);
  t.is(calls2.filter((c) => c === 'own.find').length, 1, 'more shadow reads ran than maxInFlight allows');
});
