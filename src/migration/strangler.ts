import type { Queue } from 'bullmq';
import { Gauge } from 'prom-client';
import type { Config, ModuleName } from '../platform/config.ts';
import { MODULE_SCHEMAS, roleFor } from '../platform/config.ts';
import type { Databases, Knex } from '../platform/db.ts';
import type { Flags } from '../platform/flags.ts';
import type { JobPlatform } from '../platform/jobs/job-platform.ts';
import type { Logger } from '../platform/logger.ts';
import type { ModuleMapping, Side } from '../platform/mapping/aggregate-mapping.ts';
import type { StoreRouter } from '../platform/mapping/store-routing.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { Worker } from '../platform/module.ts';
import { AutoRollback } from './cutover/auto-rollback.ts';
import { flagStoreFor } from './cutover/flag-store.ts';
import { loadPlan } from './cutover/plan.ts';
import { CopyQueue } from './dual-write/copy-queue.ts';
import { DualWriteLeases } from './dual-write/leases.ts';
import { resolveRoute } from './phases.ts';
import { registerReconciliationGauges, reconcileSchedule } from './reconciliation/schedule.ts';
import { createStranglerRouter } from './routing-store.ts';
import { ShadowReads } from './shadow/shadow-reads.ts';
import { ShadowRecorder } from './shadow/shadow-recorder.ts';
import { staleSyncObjects } from './sql/install.ts';

export interface StranglerOptions {
  config: Config;
  databases: Databases;
  flags: Flags;
  metrics: Metrics;
  logger: Logger;
  /** the mappings of the modules this process hosts */
  mappings: ModuleMapping[];
  /** scheduled reconciliation runs on it (without: none, e.g. store-level test rigs) */
  jobs?: JobPlatform;
}

export interface Strangler {
  router: StoreRouter;
  /** run in every process that hosts modules (web too): dual-write leases, shadow-read counts */
  services: Worker[];
  /** run where ROLE includes worker: copies owed to modules in a database of their own, scheduled reconciliation, the READ_NEW watchdog */
  workers: Worker[];
  /** BullMQ queues of the migration (scheduled reconciliation), for the job dashboard */
  queues: Queue[];
  /** aggregates whose generated dual-write functions or triggers are missing or outdated */
  staleSyncObjects(): Promise<string[]>;
}

/** The strangler machinery of one process, wired from its configuration (the composition root calls this). */
export function createStrangler(options: StranglerOptions): Strangler {
  const { config, databases, flags, metrics, logger } = options;
  const log = logger.child({ component: 'strangler' });
  const migrationDb = databases.forRole('migration', 'migration');
  const modules = options.mappings.map((m) => m.module);
  const mappings = new Map(options.mappings.map((m) => [m.module, m]));
  const pins: Partial<Record<ModuleName, Side>> = {};
  const ownDatabases: Partial<Record<ModuleName, Knex>> = {};
  for (const m of modules) {
    const selection = config.stores[m];
    if (selection !== 'routed') pins[m] = selection;
    const own = databases.forModuleDatabase(m);
    if (own) ownDatabases[m] = own;
  }
  const leases = new DualWriteLeases({
    db: migrationDb,
    modules: modules.filter((m) => !pins[m]),
    route: (m) => resolveRoute(flags, m),
    mode: (m) => (ownDatabases[m] ? 'queue' : 'inline'),
    logger: log,
    ttlMs: config.DUAL_WRITE_LEASE_TTL_MS,
    renewMs: config.DUAL_WRITE_LEASE_RENEW_MS,
  });
  // a flip takes effect on the next write anyway; renewing at once also copies other processes' writes sooner
  flags.onChange(() => void leases.refresh());
  const recorder = new ShadowRecorder(migrationDb, log);
  const shadow = new ShadowReads({
    mappings,
    docsDb: (m, side) => (side === 'own' ? (ownDatabases[m] ?? migrationDb) : migrationDb),
    recorder,
    sampleRate: config.SHADOW_READ_SAMPLE_RATE,
    timeoutMs: config.SHADOW_READ_TIMEOUT_MS,
    maxInFlight: config.SHADOW_READ_MAX_IN_FLIGHT,
    recheckMs: config.SHADOW_READ_RECHECK_MS,
    metrics,
    logger: log,
  });
  const router = createStranglerRouter({
    flags, pins, ownDatabases, leases, shadow, metrics, logger: log,
    shadowDb: (m) => databases.sidePool(m, config.SHADOW_READ_POOL_MAX),
  });
  const workers: Worker[] = [];
  if (Object.keys(ownDatabases).length > 0) {
    const queue = new CopyQueue({
      db: migrationDb,
      targets: ownDatabases,
      mappings,
      delaysMs: config.DUAL_WRITE_RETRY_DELAYS_MS,
      batchSize: config.DUAL_WRITE_QUEUE_BATCH,
      pollMs: 200,
      metrics,
      logger: log,
    });
    workers.push(queue);
    registerQueueGauges(metrics, queue);
  }
  const queues: Queue[] = [];
  if (options.mappings.length > 0) registerReconciliationGauges(metrics, migrationDb, options.mappings);
  if (options.jobs && options.mappings.length > 0) {
    const schedule = reconcileSchedule({
      jobs: options.jobs, databases, legacySchema: config.LEGACY_SCHEMA, mappings: options.mappings, flags,
      intervalMs: config.RECONCILE_INTERVAL_MS, mode: config.RECONCILE_MODE, logger: log,
    });
    queues.push(schedule.queue as unknown as Queue);
    workers.push(schedule.worker);
  }
  if (config.AUTO_ROLLBACK_CHECK_MS > 0 && options.mappings.length > 0) {
    const plan = loadPlan(config.CUTOVER_PLAN);
    if (plan.autoRollback.enabled) {
      workers.push(new AutoRollback({ db: migrationDb, flags: flagStoreFor(config), plan, mappings, intervalMs: config.AUTO_ROLLBACK_CHECK_MS, logger: log, metrics }));
    }
  }
  return {
    router,
    services: [leases, recorder],
    workers,
    queues,
    staleSyncObjects: () =>
      staleSyncObjects(migrationDb, options.mappings, {
        legacySchema: config.LEGACY_SCHEMA,
        moduleRole: (m) => roleFor(config, MODULE_SCHEMAS[m]),
        migrationRole: roleFor(config, 'migration'),
      }),
  };
}

function registerQueueGauges(metrics: Metrics, queue: CopyQueue): void {
  if (metrics.registry.getSingleMetric('dual_write_queue_depth')) return;
  let last: Awaited<ReturnType<CopyQueue['depth']>> = [];
  const refresh = async () => {
    last = await queue.depth().catch(() => last);
  };
  new Gauge({
    name: 'dual_write_queue_depth',
    help: 'Copies owed to a module database (module in a database of its own)',
    labelNames: ['module'],
    registers: [metrics.registry],
    async collect() {
      await refresh();
      this.reset();
      for (const r of last) this.set({ module: r.module }, r.owed);
    },
  });
  new Gauge({
    name: 'dual_write_failures',
    help: 'Owed copies that failed at least once and wait for their retry',
    labelNames: ['module'],
    registers: [metrics.registry],
    collect() {
      this.reset();
      for (const r of last) this.set({ module: r.module }, r.failing);
    },
  });
}
