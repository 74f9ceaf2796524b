import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../../../platform/logger.ts';
import type { Redis } from '../../../platform/redis.ts';

export interface CachedResponse {
  fingerprint: string;
  code: number;
  body: Record<string, unknown>;
}

const cachedSchema = z.object({
  fingerprint: z.string(),
  code: z.number().int(),
  body: z.record(z.string(), z.unknown()),
});

/**
 * The Redis fast path for finished keys: a replay is answered without a Postgres round trip. It only
 * ever holds responses Postgres already stored (written after the commit) and expires with the key, so
 * losing it, flushing it or Redis being down costs a Postgres read — never a second charge. Every
 * Redis error is a miss.
 */
export class IdempotencyCache {
  private readonly redis: Redis | undefined;
  private readonly prefix: string;
  private readonly logger: Logger;

  /** without Redis (BACKEND=postgres) every read is a miss and nothing is written: Postgres answers replays */
  constructor(options: { redis: Redis | undefined; keyPrefix: string; logger: Logger }) {
    this.redis = options.redis;
    this.prefix = options.keyPrefix;
    this.logger = options.logger;
  }

  /** `<prefix>payment:idem:<user>:<sha256 of the key>` (client keys may hold any visible character) */
  cacheKey(userId: string, key: string): string {
    return `${this.prefix}payment:idem:${userId}:${createHash('sha256').update(key).digest('hex')}`;
  }

  async get(userId: string, key: string): Promise<CachedResponse | undefined> {
    if (!this.redis) return undefined;
    try {
      const raw = await this.redis.get(this.cacheKey(userId, key));
      if (!raw) return undefined;
      const parsed = cachedSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch (err) {
      this.logger.debug({ err }, 'idempotency cache read failed; using Postgres');
      return undefined;
    }
  }

  async set(userId: string, key: string, value: CachedResponse, expiresAt: Date): Promise<void> {
    if (expiresAt.getTime() <= Date.now() || !this.redis) return;
    try {
      await this.redis.set(this.cacheKey(userId, key), JSON.stringify(value), { expiration: { type: 'PXAT', value: expiresAt.getTime() } });
    } catch (err) {
      this.logger.debug({ err }, 'idempotency cache write failed; Postgres still has the response');
    }
  }
}
