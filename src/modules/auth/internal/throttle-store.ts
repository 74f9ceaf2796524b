import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRedis, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import type { Knex } from '../../../platform/db.ts';
import type { Redis } from '../../../platform/redis.ts';

/**
 * Where the throttles count: Redis, or (BACKEND=postgres, ADR 0078) the auth schema's `rate_limits` and
 * `login_known_addresses` tables — either way shared by every replica. On a store error a limiter counts
 * in this process's memory (rate-limiter-flexible's insurance limiter) rather than fail the request.
 */
export type ThrottleStore = { kind: 'redis'; redis: Redis } | { kind: 'postgres'; db: Knex };

export function throttleStoreOf(redis: Redis | undefined, db: Knex): ThrottleStore {
  return redis ? { kind: 'redis', redis } : { kind: 'postgres', db };
}

export function createLimiter(store: ThrottleStore, options: { keyPrefix: string; points: number; duration: number }): RateLimiterStoreAbstract {
  const insuranceLimiter = new RateLimiterMemory({ points: options.points, duration: options.duration });
  if (store.kind === 'redis') {
    return new RateLimiterRedis({ ...options, storeClient: store.redis, useRedisPackage: true, insuranceLimiter });
  }
  // the table comes from the auth migrations; the pool already acts as the auth role on its schema
  return new RateLimiterPostgres({ ...options, storeClient: store.db, storeType: 'knex', tableName: 'rate_limits', tableCreated: true, insuranceLimiter });
}

/** A mark with an expiry (an address that logged in to an account). Errors propagate: the caller decides. */
export interface Marks {
  has(key: string): Promise<boolean>;
  set(key: string, ttlSeconds: number): Promise<void>;
}

export function createMarks(store: ThrottleStore): Marks {
  if (store.kind === 'redis') {
    const { redis } = store;
    return {
      has: async (key) => (await redis.exists(key)) === 1,
      set: async (key, ttlSeconds) => void (await redis.set(key, '1', { expiration: { type: 'EX', value: ttlSeconds } })),
    };
  }
  const { db } = store;
  return {
    has: async (key) => (await db.raw('SELECT 1 FROM login_known_addresses WHERE key = ? AND expires_at > now()', [key])).rows.length > 0,
    // the upsert also clears a few expired marks, so the table holds about what Redis would
    set: async (key, ttlSeconds) =>
      void (await db.raw(
        `WITH gone AS (DELETE FROM login_known_addresses WHERE key IN (SELECT key FROM login_known_addresses WHERE expires_at <= now() LIMIT 10))
         INSERT INTO login_known_addresses (key, expires_at) VALUES (?, now() + make_interval(secs => ?))
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at`,
        [key, ttlSeconds],
      )),
  };
}
