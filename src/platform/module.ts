import type { Router } from '@koa/router';
import type { Queue } from 'bullmq';
import type { Authenticator } from './auth/authenticator.ts';
import type { Config, ModuleName } from './config.ts';
import type { Databases, Knex } from './db.ts';
import type { Envelope } from './events/envelope.ts';
import type { Flags } from './flags.ts';
import type { Health } from './health.ts';
import type { JobPlatform } from './jobs/job-platform.ts';
import type { Logger } from './logger.ts';
import type { StoreRouter } from './mapping/store-routing.ts';
import type { Metrics } from './metrics.ts';
import type { Redis } from './redis.ts';

/** What the platform hands every module. Facades of other modules are added per module by the composition root. */
export interface PlatformDeps {
  config: Config;
  logger: Logger;
  /** the module's own pool (its role, its schema first on the search path) */
  db: Knex;
  databases: Databases;
  /** none with BACKEND=postgres: what a module keeps in Redis then lives in its schema, or is not cached (ADR 0078) */
  redis: Redis | undefined;
  flags: Flags;
  metrics: Metrics;
  authenticator: Authenticator;
  /** BullMQ queues and workers of this process (src/platform/jobs) */
  jobs: JobPlatform;
  /** turns a module's legacy and own store into the one it uses (the strangler routing store, or a pin) */
  stores: StoreRouter;
}

export interface ModuleHealth {
  status: 'ok' | 'degraded' | 'failing';
  details?: Record<string, unknown>;
}

/** A long-running background task (relay, consumer, sweeper) that runs when ROLE is worker or all. */
export interface Worker {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Applies one event's effect inside the consumer's transaction. The consumer has already recorded the
 * event id in the module's `inbox` in the same transaction, so the effect happens once per event id.
 */
export type EventHandler = (event: Envelope, trx: Knex.Transaction) => Promise<void>;

/** A module's subscription to domain.events (queue names and bindings per seed 002 §3.1). */
export interface ModuleConsumer {
  /** e.g. `movie-service.events` */
  queue: string;
  /** routing-key patterns bound from the domain.events exchange, e.g. `booking.*` */
  bindings: string[];
  /** handlers by event_type; a bound event type without a handler is acknowledged and skipped */
  handlers: Record<string, EventHandler>;
  /** whether events of this type are consumed right now (flag gating); default: always */
  enabled?: (eventType: string) => boolean;
}

/** A module that announces state changes has an `outbox` table in its own schema. */
export interface ModuleOutbox {
  schema: string;
}

/** What create<Name>Module(deps) returns. Only `facade` is meant for other modules. */
export interface BoxofficeModule<F = unknown> {
  name: ModuleName;
  facade: F;
  routes: Router[];
  /** the module's outbox, relayed to domain.events by the platform's relay (ROLE worker|all) */
  outbox?: ModuleOutbox;
  /** the module's event subscription, run by the platform's consumer (ROLE worker|all) */
  consumer?: ModuleConsumer;
  /** event consumers and jobs, started only where ROLE includes worker */
  workers: Worker[];
  /** the module's BullMQ queues (made with deps.jobs), shown on the admin job dashboard (/admin/queues) */
  queues?: Queue[];
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): Promise<ModuleHealth>;
}

/** Hosts the modules of this process: their routes, their lifecycle, and their health checks. */
export class ModuleHost {
  private readonly startedWorkers: Worker[] = [];
  private readonly startedModules: BoxofficeModule[] = [];

  readonly modules: BoxofficeModule[];
  private readonly logger: Logger;
  /** the platform's own workers for these modules (event relays and consumers), started after the modules' */
  private readonly platformWorkers: Worker[];

  constructor(modules: BoxofficeModule[], logger: Logger, platformWorkers: Worker[] = []) {
    this.modules = modules;
    this.logger = logger;
    this.platformWorkers = platformWorkers;
  }

  get names(): ModuleName[] {
    return this.modules.map((m) => m.name);
  }

  routers(): Router[] {
    return this.modules.flatMap((m) => m.routes);
  }

  /** every BullMQ queue of the hosted modules */
  queues(): Queue[] {
    return this.modules.flatMap((m) => m.queues ?? []);
  }

  registerHealth(health: Health): void {
    for (const m of this.modules) {
      health.register(`module:${m.name}`, async () => {
        const h = await m.health();
        if (h.status === 'failing') throw new Error(`${m.name} failing: ${JSON.stringify(h.details ?? {})}`);
      });
    }
  }

  async start(runWorkers: boolean): Promise<void> {
    for (const m of this.modules) {
      await m.start();
      this.startedModules.push(m);
    }
    if (!runWorkers) return;
    for (const w of [...this.modules.flatMap((m) => m.workers), ...this.platformWorkers]) {
      await w.start();
      this.startedWorkers.push(w);
      this.logger.info({ worker: w.name }, 'worker started');
    }
  }

  /** Workers first (stop taking new work), then modules in reverse order of start. */
  async stop(): Promise<void> {
    for (const w of this.startedWorkers.splice(0).reverse()) {
      try {
        await w.stop();
      } catch (err) {
        this.logger.error({ err, worker: w.name }, 'worker did not stop cleanly');
      }
    }
    for (const m of this.startedModules.splice(0).reverse()) {
      try {
        await m.stop();
      } catch (err) {
        this.logger.error({ err, module: m.name }, 'module did not stop cleanly');
      }
    }
  }
}

/** A module whose behaviour has not landed yet: its schema, its role's pool, and a health check. */
export function createPlaceholderModule<F>(name: ModuleName, deps: Pick<PlatformDeps, 'db'>, facade: F): BoxofficeModule<F> {
  return {
    name,
    facade,
    routes: [],
    workers: [],
    async start() {},
    async stop() {},
    async health() {
      await deps.db.raw('select 1');
      return { status: 'ok' };
    },
  };
}
