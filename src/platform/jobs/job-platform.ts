import { createPostgresBackend, Queue, Worker as BullWorker, type Job, type Processor } from 'bullmq';
import pg from 'pg';
import type { Logger } from '../logger.ts';
import { ioredisOptions, type RedisSentinels } from '../redis-options.ts';
import { raceDeadline } from '../deadline.ts';
import type { Metrics } from '../metrics.ts';
import type { Worker } from '../module.ts';

export type { Job, Processor };

/** Retry and retention defaults of a queue's jobs; every field can be overridden per queue. */
export interface QueueDefaults {
  /** runs of a job (first + retries) before it is failed */
  attempts: number;
  /** first back-off delay; doubles on every retry (BullMQ exponential back-off) */
  backoffMs: number;
  /** finished jobs kept for the dashboard (the newest N) */
  keepCompleted: number;
  keepFailed: number;
}

/** the most workers a platform runs (a LISTEN connection each, on top of the Postgres pool's poolMax) */
const MAX_WORKERS = 4;

export const DEFAULT_QUEUE_DEFAULTS: QueueDefaults = { attempts: 5, backoffMs: 1_000, keepCompleted: 1_000, keepFailed: 5_000 };

export interface WorkerSpec {
  /** jobs one process works on in parallel */
  concurrency?: number;
  /** how long a job may run without renewing its lock before it counts as stalled */
  lockDurationMs?: number;
}

/**
 * Where the jobs live: Redis (BullMQ's own), or PostgreSQL through BullMQ's Postgres backend (BACKEND=postgres,
 * ADR 0078) — the same queues, workers, retries and dashboard, in the `bullmq` schema `migrate` prepared.
 */
export type JobStore =
  | {
      kind: 'redis';
      url: string;
      /** REDIS_SENTINELS: ioredis asks these which node is master */
      sentinels?: RedisSentinels | undefined;
      /** REDIS_KEY_PREFIX: queues live under `<prefix>bull:<queue>:*`, so apps with different prefixes never share jobs */
      keyPrefix: string;
    }
  | {
      kind: 'postgres';
      /** DATABASE_URL */
      url: string;
      /** the role owning BullMQ's schema (the login acts as it, as a module's pool does) */
      role: string;
      /** DB_POOL_MAX: half of it for the platform's queries; each running worker holds one more (its LISTEN) */
      poolMax: number;
    };

/** BullMQ's own default schema: the one it uses on a pool it is given (ours, shared by every queue and worker) */
export const BULLMQ_SCHEMA = 'bullmq';

export interface JobPlatformOptions {
  store: JobStore;
  logger: Logger;
  metrics?: Metrics;
  defaults?: Partial<QueueDefaults>;
  /** how long stopping a worker waits for its running jobs (default 15 s) */
  closeTimeoutMs?: number;
}

/**
 * BullMQ for the hosted modules: named queues with sane defaults (attempts, exponential back-off,
 * bounded retention), workers that are platform `Worker`s (started where ROLE includes worker, closed
 * gracefully: running jobs finish first), one readiness check, and one close for shutdown. BullMQ talks
 * to its store through connections of its own: ioredis (a blocking one per worker), separate from the
 * app's node-redis client, or one pg pool of the platform's (a LISTEN connection of it per worker).
 */
export class JobPlatform {
  private readonly o: JobPlatformOptions;
  private readonly defaults: QueueDefaults;
  private readonly queuesByName = new Map<string, Queue>();
  private readonly workers = new Set<BullWorker>();
  private pool: pg.Pool | undefined;
  private readonly jobsCounter;
  private closed = false;

  constructor(options: JobPlatformOptions) {
    this.o = options;
    this.defaults = { ...DEFAULT_QUEUE_DEFAULTS, ...options.defaults };
    this.jobsCounter = options.metrics?.counter('jobs_processed_total', 'BullMQ job runs by queue and outcome', ['queue', 'outcome']);
  }

  /** The BullMQ key prefix of this process's queues (Redis), or the schema holding them (Postgres). */
  get prefix(): string {
    const store = this.o.store;
    return store.kind === 'redis' ? `${store.keyPrefix}bull` : BULLMQ_SCHEMA;
  }

  get storeKind(): JobStore['kind'] {
    return this.o.store.kind;
  }

  /**
   * One pg pool for every queue and worker of the platform (BullMQ would otherwise open a pool per queue
   * and per worker): the jobs role, BullMQ's schema first on the search path. Workers take their LISTEN
   * connection from it, so it has room for those on top of poolMax. BullMQ checks at connect that
   * `migrate` brought the schema to its version.
   */
  private postgresPool(store: Extract<JobStore, { kind: 'postgres' }>): pg.Pool {
    if (!this.pool) {
      this.pool = new pg.Pool({
        connectionString: store.url,
        options: `-c role=${store.role} -c search_path=${BULLMQ_SCHEMA}`,
        application_name: 'boxoffice:jobs',
        max: Math.max(2, Math.ceil(store.poolMax / 2)) + MAX_WORKERS,
        // workers poll and LISTEN; what a burst opened is given back soon
        idleTimeoutMillis: 5_000,
      });
      this.pool.on('error', (err) => this.o.logger.warn({ err: err.message }, 'job store connection problem'));
    }
    return this.pool;
  }

  /** BullMQ's key prefix on Redis; on Postgres the schema is the namespace */
  private keyPrefix(): { prefix?: string } {
    return this.o.store.kind === 'redis' ? { prefix: this.prefix } : {};
  }

  /** A queue or worker bound to this platform's store (the job API is the same on both). */
  private construct<T>(name: string, kind: 'queue' | 'worker', build: (connection: object, backend?: typeof createPostgresBackend) => T, redisOptions: Parameters<typeof ioredisOptions>[2]): T {
    const store = this.o.store;
    if (store.kind === 'redis') return build(ioredisOptions(store.url, store.sentinels, { ...redisOptions, connectionName: `boxoffice:${kind}:${name}` }));
    return build(this.postgresPool(store), createPostgresBackend);
  }

  /** Every queue created so far (what bull-board shows). */
  get queues(): Queue[] {
    return [...this.queuesByName.values()];
  }

  /** The queue of this name, created on first use with the defaults (and `overrides`). */
  queue<D = unknown, R = unknown>(name: string, overrides: Partial<QueueDefaults> = {}): Queue<D, R> {
    if (this.closed) throw new Error('the job platform is closed');
    const existing = this.queuesByName.get(name);
    if (existing) return existing as unknown as Queue<D, R>;
    const d = { ...this.defaults, ...overrides };
    const defaultJobOptions = {
      attempts: d.attempts,
      backoff: { type: 'exponential', delay: d.backoffMs },
      removeOnComplete: { count: d.keepCompleted },
      removeOnFail: { count: d.keepFailed },
    };
    // the Postgres backend's Queue is typed by its connection; what we use of it is the same API
    const queue = this.construct(
      name,
      'queue',
      (connection, backend) => new Queue<D, R>(name, { ...this.keyPrefix(), connection, defaultJobOptions } as never, backend as never) as unknown as Queue<D, R>,
      // producers fail fast while Redis is away (a caller falls back or retries) instead of queueing commands
      { enableOfflineQueue: false },
    );
    queue.on('error', (err: Error) => this.o.logger.warn({ queue: name, err: err.message }, 'job queue connection problem'));
    this.queuesByName.set(name, queue as unknown as Queue);
    return queue;
  }

  /**
   * A platform worker processing `name`. Nothing connects until start(); stop() lets running jobs
   * finish (BullMQ close), so a job is never cut off half-way by a normal shutdown.
   */
  worker<D = unknown, R = unknown>(name: string, processor: Processor<D, R>, spec: WorkerSpec = {}): Worker {
    let bull: BullWorker<D, R> | undefined;
    let running: Promise<void> | undefined;
    const log = this.o.logger.child({ queue: name });
    return {
      name: `jobs:${name}`,
      start: async () => {
        if (bull) return;
        if (this.closed) throw new Error('the job platform is closed');
        const concurrency = spec.concurrency ?? 1;
        const lockDuration = spec.lockDurationMs ?? 30_000;
        // a job whose worker died is taken up again once its lock ran out and the next stalled-job check
        // runs: checking every half lock (at most BullMQ's 30 s) keeps that wait near the lock itself
        const stalledInterval = Math.min(30_000, Math.max(1_000, Math.floor(lockDuration / 2)));
        const options = { ...this.keyPrefix(), autorun: false, concurrency, lockDuration, stalledInterval };
        const w = this.construct(
          name,
          'worker',
          (connection, backend) => new BullWorker<D, R>(name, processor, { ...options, connection } as never, backend as never) as unknown as BullWorker<D, R>,
          // workers wait for Redis rather than fail their blocking commands (BullMQ requires this)
          { maxRetriesPerRequest: null },
        );
        w.on('error', (err: Error) => log.warn({ err: err.message }, 'job worker problem'));
        w.on('completed', () => this.jobsCounter?.inc({ queue: name, outcome: 'completed' }));
        w.on('failed', (job: Job<D, R> | undefined, err: Error) => {
          const final = !job || job.finishedOn !== undefined || job.attemptsMade >= (job.opts.attempts ?? 1);
          this.jobsCounter?.inc({ queue: name, outcome: final ? 'failed' : 'retried' });
          log.debug({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: err.message, final }, 'job run failed');
        });
        bull = w;
        this.workers.add(w as unknown as BullWorker);
        running = w.run().catch((err: unknown) => log.error({ err }, 'job worker stopped unexpectedly'));
        // start-up does not wait for the store: the worker keeps connecting, readiness reports it meanwhile
        void within(w.waitUntilReady(), 5_000).then((ready) => ready || log.warn({ store: this.o.store.kind }, 'job worker not connected to its store yet; it keeps trying'));
      },
      stop: async () => {
        const w = bull;
        if (!w) return;
        bull = undefined;
        this.workers.delete(w as unknown as BullWorker);
        await this.closeWorker(w as unknown as BullWorker, running, log);
      },
    };
  }

  /** Readiness: one round trip to the store through a queue connection (nothing to check when no queue exists). */
  async ping(): Promise<void> {
    const queue = this.queues[0];
    if (!queue) return;
    await queue.getJobCounts('waiting');
  }

  /**
   * Connected: close gracefully (running jobs finish, bounded by closeTimeoutMs). Not connected (Redis
   * away): nothing can be running, and a graceful close would wait for Redis forever, so force it.
   */
  private async closeWorker(w: BullWorker, running: Promise<void> | undefined, log: Logger): Promise<void> {
    const connected = await within(w.waitUntilReady(), 250);
    if (!connected) {
      await w.close(true);
      return;
    }
    if (!(await within(w.close().then(() => running), this.o.closeTimeoutMs ?? 15_000))) {
      log.warn({ queue: w.name }, 'job worker did not finish its running jobs in time; leaving them to the stalled-job check');
      await within(w.close(true), 1_000);
    }
  }

  /** Shutdown: workers first (running jobs finish), then the queues' connections. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const results = await Promise.allSettled([...this.workers].map((w) => this.closeWorker(w, undefined, this.o.logger)));
    this.workers.clear();
    results.push(...(await Promise.allSettled(this.queues.map((q) => closeQueue(q)))));
    this.queuesByName.clear();
    // BullMQ leaves a pool it was given open: ours ends after every queue and worker let go of it
    if (this.pool) results.push(...(await Promise.allSettled([this.pool.end()])));
    for (const r of results) if (r.status === 'rejected') this.o.logger.warn({ err: r.reason }, 'job platform did not close cleanly');
  }
}

/**
 * Close a queue and make sure its connection stays closed: BullMQ's close sends QUIT, which ioredis refuses
 * while it is reconnecting (Redis restarted under us) — its reconnect timer stays armed, and the client
 * would connect again after close and hold the process open. disconnect() disarms it.
 */
async function closeQueue(q: Queue): Promise<void> {
  await within(q.close(), 5_000);
  // a Postgres queue has no client of its own: the platform's pool is ended in close()
  const client = (q.backend as { client?: Promise<{ disconnect?: () => void }> }).client;
  if (client) (await valueWithin(client.catch(() => undefined), 250))?.disconnect?.();
}

/** what `p` fulfils with, if it does within `ms` (undefined on timeout); clean-up nothing waits for */
async function valueWithin<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  const r = await raceDeadline(p, ms, { keepAlive: false });
  return r.done ? r.value : undefined;
}

/** true if `p` settled (fulfilled) within `ms` */
const within = async (p: Promise<unknown>, ms: number): Promise<boolean> => (await valueWithin(p.then(() => true, () => false), ms)) === true;

export function createJobPlatform(options: JobPlatformOptions): JobPlatform {
  return new JobPlatform(options);
}
