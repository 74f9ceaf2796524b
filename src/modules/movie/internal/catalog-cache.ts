import { LRUCache } from 'lru-cache';
import type { Knex } from '../../../platform/db.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { Redis } from '../../../platform/redis.ts';

/** The catalog's generation number: read before every cached read, bumped after every catalog write. */
export interface CatalogGeneration {
  read(): Promise<string>;
  bump(): Promise<void>;
}

/** In Redis (`<prefix>movie:cache:gen`), next to the cached values. */
export function redisGeneration(redis: Redis, key: string): CatalogGeneration {
  return {
    read: async () => (await redis.get(key)) ?? '0',
    bump: async () => void (await redis.incr(key)),
  };
}

/**
 * In the movie schema's one-row `catalog_generation` table (BACKEND=postgres, ADR 0078): one indexed read
 * per cached read, as the Redis GET was — and a write in any replica is seen by every other at once.
 */
export function postgresGeneration(db: Knex): CatalogGeneration {
  return {
    read: async () => String((await db.raw<{ rows: { gen: string }[] }>('SELECT gen FROM catalog_generation')).rows[0]?.gen ?? '0'),
    bump: async () => void (await db.raw('UPDATE catalog_generation SET gen = gen + 1')),
  };
}

/**
 * Read-through cache for catalog reads in Redis. Every key carries the catalog's generation number;
 * a write bumps the generation (INCR) after it commits, so every cached read is invalidated at once
 * without tracking which keys a write touches (catalog writes are rare, reads are not). Old generations
 * simply age out (TTL). Concurrent misses of one key and generation in this process share one load (no stampede).
 * Redis is an optimisation only: any Redis error means a direct read, never a failed request.
 *
 * Values are also kept in this process (bounded, same TTL), under the same generation-qualified key: a read
 * still asks for the generation — so a write in any process invalidates here at once, as before — but
 * not for the value, and does not parse it again (a showtime's seat layout, read by every booking, is
 * thousands of seats). Kept values are frozen: they are shared by every reader.
 *
 * Reads begun in one synchronous run (a booking asks for a showtime's snapshot and its layout together) share
 * one generation read: nothing can reach this process between them, so each would have read the same.
 *
 * Without Redis (BACKEND=postgres) the generation lives in Postgres and values only in this process.
 */
export class CatalogCache {
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** the generation read asked for in the current synchronous run, if any (cleared at its end) */
  private generationNow: Promise<string> | undefined;
  private readonly local: LRUCache<string, { v: unknown }> | undefined;
  private lastWarn = 0;

  /** where values are shared between processes (none without Redis) */
  private readonly redis: Redis | undefined;
  private readonly generation: CatalogGeneration;
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly logger: Logger;

  /** `generation`: Redis's when there is a Redis (default), else a Postgres one must be given */
  constructor(options: { redis: Redis | undefined; generation?: CatalogGeneration; keyPrefix: string; ttlSeconds: number; logger: Logger; localEntries?: number }) {
    this.redis = options.redis;
    this.prefix = `${options.keyPrefix}movie:cache:`;
    const generation = options.generation ?? (options.redis ? redisGeneration(options.redis, `${this.prefix}gen`) : undefined);
    if (!generation) throw new Error('the catalog cache needs Redis or a generation of its own');
    this.generation = generation;
    this.ttlSeconds = options.ttlSeconds;
    this.logger = options.logger;
    const max = options.localEntries ?? 500;
    this.local = this.ttlSeconds > 0 && max > 0 ? new LRUCache({ max, ttl: this.ttlSeconds * 1000 }) : undefined;
  }

  /** a value as a Redis hit reads it (JSON), frozen, kept for this process's next readers of `full` */
  private keep<T>(full: string, json: string): T {
    const entry = deepFreeze(JSON.parse(json) as { v: T });
    this.local?.set(full, entry);
    return entry.v;
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarn > 10_000) {
      this.lastWarn = now;
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'catalog cache unavailable; reading the database');
    }
  }

  private currentGeneration(): Promise<string> {
    if (this.generationNow) return this.generationNow;
    const read = this.generation.read();
    this.generationNow = read;
    // a microtask runs only once the synchronous run that asked is over: a later reader asks again
    queueMicrotask(() => (this.generationNow = undefined));
    return read;
  }

  /**
   * The cached value of `key` in the current generation, else `load()` (stored for the next reader).
   * Concurrent misses share one load only within one generation: a load begun before a write committed
   * must not answer a reader who arrives after the write's invalidation (read-your-writes for the writer).
   */
  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const redis = this.redis;
    if (this.ttlSeconds === 0) return load();
    let full: string;
    try {
      full = `${this.prefix}${await this.currentGeneration()}:${key}`;
      const mine = this.local?.get(full);
      if (mine) return mine.v as T;
      const hit = redis ? await redis.get(full) : null;
      if (hit !== null) return this.keep<T>(full, hit);
    } catch (err) {
      this.warn(err);
      return load();
    }
    const pending = this.inflight.get(full) as Promise<T> | undefined;
    if (pending) return pending;
    const p = load()
      .then((value) => {
        if (value === undefined) return value;
        const json = JSON.stringify({ v: value });
        redis?.set(full, json, { EX: this.ttlSeconds }).catch((err: unknown) => this.warn(err));
        return this.keep<T>(full, json);
      })
      .finally(() => this.inflight.delete(full));
    this.inflight.set(full, p);
    return p;
  }

  /** After a catalog write committed. A failure is logged: entries then expire by TTL. */
  async invalidate(): Promise<void> {
    if (this.ttlSeconds === 0) return;
    try {
      await this.generation.bump();
    } catch (err) {
      this.warn(err);
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
