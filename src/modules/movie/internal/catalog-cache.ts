import type { Logger } from '../../../platform/logger.ts';
import type { Redis } from '../../../platform/redis.ts';

/**
 * Read-through cache for catalog reads in Redis. Every key carries the catalog's generation number;
 * a write bumps the generation (INCR) after it commits, so every cached read is invalidated at once
 * without tracking which keys a write touches (catalog writes are rare, reads are not). Old generations
 * simply age out (TTL). Concurrent misses of one key and generation in this process share one load (no stampede).
 * Redis is an optimisation only: any Redis error means a direct read, never a failed request.
 */
export class CatalogCache {
  private readonly inflight = new Map<string, Promise<unknown>>();
  private lastWarn = 0;

  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  private readonly logger: Logger;

  constructor(options: { redis: Redis; keyPrefix: string; ttlSeconds: number; logger: Logger }) {
    this.redis = options.redis;
    this.prefix = `${options.keyPrefix}movie:cache:`;
    this.ttlSeconds = options.ttlSeconds;
    this.logger = options.logger;
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarn > 10_000) {
      this.lastWarn = now;
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'catalog cache unavailable; reading the database');
    }
  }

  /**
   * The cached value of `key` in the current generation, else `load()` (stored for the next reader).
   * Concurrent misses share one load only within one generation: a load begun before a write committed
   * must not answer a reader who arrives after the write's invalidation (read-your-writes for the writer).
   */
  async get<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (this.ttlSeconds === 0) return load();
    let full: string;
    try {
      const gen = (await this.redis.get(`${this.prefix}gen`)) ?? '0';
      full = `${this.prefix}${gen}:${key}`;
      const hit = await this.redis.get(full);
      if (hit !== null) return (JSON.parse(hit) as { v: T }).v;
    } catch (err) {
      this.warn(err);
      return load();
    }
    const pending = this.inflight.get(full) as Promise<T> | undefined;
    if (pending) return pending;
    const p = load()
      .then((value) => {
        if (value !== undefined) this.redis.set(full, JSON.stringify({ v: value }), { EX: this.ttlSeconds }).catch((err: unknown) => this.warn(err));
        return value;
      })
      .finally(() => this.inflight.delete(full));
    this.inflight.set(full, p);
    return p;
  }

  /** After a catalog write committed. A failure is logged: entries then expire by TTL. */
  async invalidate(): Promise<void> {
    if (this.ttlSeconds === 0) return;
    try {
      await this.redis.incr(`${this.prefix}gen`);
    } catch (err) {
      this.warn(err);
    }
  }
}
