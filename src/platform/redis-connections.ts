import type { Config, ModuleName } from './config.ts';
import { createJobPlatform, type JobPlatform } from './jobs/job-platform.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import { closeRedis, connectRedis, createRedis, type Redis } from './redis.ts';
import { parseSentinels } from './redis-options.ts';

/** One Redis server's two clients: node-redis (app code) and BullMQ's ioredis connections (jobs). */
export interface RedisConnection {
  redis: Redis;
  jobs: JobPlatform;
}

/**
 * The Redis servers of a process: REDIS_URL for the platform, and `<MODULE>_REDIS_URL` for a hosted
 * module that has its own (a split deployment gives each service its own Redis). One connection per
 * distinct URL, all through Sentinel when REDIS_SENTINELS is set.
 */
export class RedisConnections {
  private readonly byUrl = new Map<string, RedisConnection>();
  private readonly config: Config;
  private readonly logger: Logger;
  private readonly metrics: Metrics;

  constructor(options: { config: Config; logger: Logger; metrics: Metrics }) {
    this.config = options.config;
    this.logger = options.logger;
    this.metrics = options.metrics;
    this.at(this.config.REDIS_URL);
    for (const m of this.config.MODULES) this.at(this.config.moduleRedisUrls[m]);
  }

  /** the platform's own (REDIS_URL) */
  get shared(): RedisConnection {
    return this.at(this.config.REDIS_URL);
  }

  forModule(module: ModuleName): RedisConnection {
    return this.at(this.config.moduleRedisUrls[module]);
  }

  /** Connect every client without blocking start-up for long: readiness reports Redis until it answers. */
  async connect(): Promise<void> {
    await Promise.all([...this.byUrl.values()].map((c) => connectRedis(c.redis, this.logger)));
  }

  async ping(): Promise<void> {
    for (const c of this.byUrl.values()) {
      await c.redis.ping();
      await c.jobs.ping();
    }
  }

  async closeJobs(): Promise<void> {
    await Promise.allSettled([...this.byUrl.values()].map((c) => c.jobs.close()));
  }

  async closeClients(): Promise<void> {
    await Promise.allSettled([...this.byUrl.values()].map((c) => closeRedis(c.redis)));
  }

  private at(url: string): RedisConnection {
    let c = this.byUrl.get(url);
    if (!c) {
      const { config, logger, metrics } = this;
      const sentinels = parseSentinels(config.REDIS_SENTINELS, config.REDIS_SENTINEL_NAME);
      c = { redis: createRedis(url, logger, sentinels), jobs: createJobPlatform({ store: { kind: 'redis', url, sentinels, keyPrefix: config.REDIS_KEY_PREFIX }, logger, metrics }) };
      this.byUrl.set(url, c);
    }
    return c;
  }
}
