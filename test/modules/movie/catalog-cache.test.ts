import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { CatalogCache, postgresGeneration, redisGeneration } from '../../../src/modules/movie/internal/catalog-cache.ts';
import { createPool, type Knex } from '../../../src/platform/db.ts';
import { closeRedis, connectRedis, createRedis, type Redis } from '../../../src/platform/redis.ts';
import { createTestDatabase } from '../../helpers/db.ts';
import { testLogger } from '../../helpers/events.ts';

/** The catalog's read-through cache on the real Redis, under a key prefix of its own. */
let redis: Redis;
test.before(async () => {
  redis = createRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', testLogger());
  await connectRedis(redis, testLogger());
});
test.after.always(async () => {
  if (redis) await closeRedis(redis);
});

const newCache = () => new CatalogCache({ redis, keyPrefix: `bo-test-${randomBytes(6).toString('hex')}:`, ttlSeconds: 60, logger: testLogger() });

function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

test('concurrent misses of one key share one load', async (t) => {
  const cache = newCache();
  let loads = 0;
  const gate = deferred<string>();
  const load = () => {
    loads++;
    return gate.promise;
  };
  const [a, b] = [cache.get('movie:1', load), cache.get('movie:1', load)];
  await new Promise((r) => setImmediate(r));
  gate.resolve('v1');
  t.deepEqual(await Promise.all([a, b]), ['v1', 'v1']);
  t.is(loads, 1);
  t.is(await cache.get('movie:1', async () => 'not loaded again'), 'v1', 'the value was stored');
});

test('reads begun together share one generation read; a read begun after them, or after a write, asks again', async (t) => {
  const keyPrefix = `bo-test-${randomBytes(6).toString('hex')}:`;
  const gen = redisGeneration(redis, `${keyPrefix}movie:cache:gen`);
  let reads = 0;
  const counted = { read: () => (reads++, gen.read()), bump: () => gen.bump() };
  const cache = new CatalogCache({ redis, generation: counted, keyPrefix, ttlSeconds: 60, logger: testLogger() });
  // a booking's two reads, as it begins them: the snapshot and the layout
  t.deepEqual(await Promise.all([cache.get('snapshot:1', async () => 's1'), cache.get('layout:1', async () => 'l1')]), ['s1', 'l1']);
  t.is(reads, 1);
  t.is(await cache.get('snapshot:1', async () => 'not loaded again'), 's1');
  t.is(reads, 2, 'a read begun later asks for the generation itself');
  // a write lands between two runs of reads: the second run sees it
  await new CatalogCache({ redis, keyPrefix, ttlSeconds: 60, logger: testLogger() }).invalidate();
  t.deepEqual(await Promise.all([cache.get('snapshot:1', async () => 's2'), cache.get('layout:1', async () => 'l2')]), ['s2', 'l2']);
  t.is(reads, 3);
});

/** a reader of `cache` loads; a write (through `writer`, this process's cache or another's) invalidates meanwhile */
async function staleLoadIsNotServed(t: ExecutionContext, cache: CatalogCache, writer: CatalogCache): Promise<void> {
  const before = deferred<string>();
  const loading = deferred<void>();
  const early = cache.get('movie:1', () => {
    loading.resolve();
    return before.promise;
  });
  // the early reader is now loading the row as it was before the write (its load has not returned yet)
  await loading.promise;
  await writer.invalidate(); // the write committed
  t.is(await cache.get('movie:1', async () => 'after the write'), 'after the write');
  before.resolve('before the write');
  t.is(await early, 'before the write');
  t.is(await cache.get('movie:1', async () => 'reloaded'), 'after the write', 'the stale load was stored only under the old generation');
}

test('a load begun before a write does not answer a reader who comes after the write invalidated the cache', async (t) => {
  const cache = newCache();
  await staleLoadIsNotServed(t, cache, cache);
});

test('a value read once is kept in this process (frozen), and a write in another process still invalidates it at once', async (t) => {
  const keyPrefix = `bo-test-${randomBytes(6).toString('hex')}:`;
  const here = new CatalogCache({ redis, keyPrefix, ttlSeconds: 60, logger: testLogger() });
  const there = new CatalogCache({ redis, keyPrefix, ttlSeconds: 60, logger: testLogger() });
  t.deepEqual(await here.get('layout:1', async () => ({ seats: ['A1', 'A2'] })), { seats: ['A1', 'A2'] });
  // the value leaves Redis: this process still answers from its own copy
  const keys: string[] = [];
  for await (const batch of redis.scanIterator({ MATCH: `${keyPrefix}movie:cache:0:*`, COUNT: 100 })) keys.push(...batch);
  t.is(keys.length, 1);
  await redis.del(keys);
  const kept = await here.get('layout:1', async () => ({ seats: ['not loaded again'] }));
  t.deepEqual(kept, { seats: ['A1', 'A2'] });
  t.true(Object.isFrozen(kept.seats), 'shared by every reader, so nobody may change it');
  // a catalog write in another process: the next read here loads anew
  await there.invalidate();
  t.deepEqual(await here.get('layout:1', async () => ({ seats: ['B1'] })), { seats: ['B1'] });
});

test('without Redis (BACKEND=postgres): the generation is a Postgres row, values stay in each process; a write in another process invalidates here at once', async (t) => {
  const db = await createTestDatabase();
  // two processes' pools of the movie role
  const [herePool, therePool] = [0, 1].map(() => createPool(db.url, { role: 'boxoffice_movies', searchPath: 'movies', max: 2 }));
  try {
    const of = (pool: Knex) => new CatalogCache({ redis: undefined, generation: postgresGeneration(pool), keyPrefix: 'bo-test:', ttlSeconds: 60, logger: testLogger() });
    const [here, there] = [of(herePool!), of(therePool!)];
    let loads = 0;
    t.deepEqual(await here.get('layout:1', async () => (loads++, { seats: ['A1'] })), { seats: ['A1'] });
    t.deepEqual(await here.get('layout:1', async () => (loads++, { seats: ['not loaded again'] })), { seats: ['A1'] });
    t.is(loads, 1, 'kept in this process');
    t.deepEqual(await there.get('layout:1', async () => (loads++, { seats: ['A1'] })), { seats: ['A1'] }, 'the other process loads its own copy');
    t.is(loads, 2);
    await there.invalidate(); // a catalog write committed over there
    t.deepEqual(await here.get('layout:1', async () => ({ seats: ['B1'] })), { seats: ['B1'] }, 'read anew here');

    await staleLoadIsNotServed(t, here, there);
  } finally {
    await Promise.all([herePool!.destroy(), therePool!.destroy()]);
    await db.drop();
  }
});

test('without Redis the cache needs a generation of its own (it is never silently shared-nothing)', (t) => {
  t.throws(() => new CatalogCache({ redis: undefined, keyPrefix: 'x:', ttlSeconds: 60, logger: testLogger() }), { message: /needs Redis or a generation/ });
});
