import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/**
 * `WEB_CONCURRENCY` > 1 (ADR 0054): one `npm start` is a primary that runs no app itself and forks
 * WEB_CONCURRENCY web processes sharing the port (node:cluster), plus — when ROLE is `all` — one process
 * with ROLE=worker that runs the relays, consumers, sweepers and jobs once, not once per web process,
 * and listens on no port. The primary replaces a process that dies, sums every process's metrics for
 * /metrics, and on SIGTERM stops them all gracefully.
 */
const METRICS_REQ = 'boxoffice:metrics-req';
const METRICS_RES = 'boxoffice:metrics-res';
/** how this process was forked by the primary */
export const CLUSTER_ROLE_ENV = 'BOXOFFICE_CLUSTER_ROLE';

export type ClusterRole = 'web' | 'worker';

/** Whether `npm start` should become a cluster primary (a process forked by one never does). */
export function wantsCluster(config: Config): boolean {
  return cluster.isPrimary && config.WEB_CONCURRENCY > 1 && config.ROLE !== 'worker';
}

/** The role of this process in a cluster, or undefined outside one. */
export function clusterRole(): ClusterRole | undefined {
  if (!cluster.isWorker) return undefined;
  return process.env[CLUSTER_ROLE_ENV] === 'worker' ? 'worker' : 'web';
}

interface MetricsMessage {
  type: typeof METRICS_REQ | typeof METRICS_RES;
  id: number;
  text?: string;
  error?: string;
}

const isMetricsMessage = (m: unknown): m is MetricsMessage =>
  typeof m === 'object' && m !== null && ((m as MetricsMessage).type === METRICS_REQ || (m as MetricsMessage).type === METRICS_RES);

/**
 * In a process of the cluster: answer the primary's collection with this registry, and let /metrics
 * ask the primary for the sum of all processes (a scrape may land on any web process).
 */
export function joinClusterMetrics(metrics: Metrics, timeoutMs = 5_000): void {
  AggregatorRegistry.setRegistries([metrics.registry]);
  // prom-client answers the primary's collection only once an AggregatorRegistry was made in this process
  new AggregatorRegistry();
  const pending = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }>();
  let next = 0;
  process.on('message', (m: unknown) => {
    if (!isMetricsMessage(m) || m.type !== METRICS_RES) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve(m.text ?? '');
  });
  metrics.exposition = () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error('the cluster primary did not collect the metrics in time'));
      }, timeoutMs);
      pending.set(id, { resolve, reject, timer });
      process.send!({ type: METRICS_REQ, id } satisfies MetricsMessage);
    });
}

export interface ClusterPrimary {
  /** resolves with the exit code once every process has exited after stop() */
  stopped: Promise<number>;
  stop(signal: string): void;
}

/** Run the primary: fork, watch, replace, aggregate, stop. */
export function runClusterPrimary(config: Config, logger: Logger): ClusterPrimary {
  const aggregator = new AggregatorRegistry();
  const roles = new Map<Worker, ClusterRole>();
  let stopping = false;
  let unclean = false;
  const recentDeaths: number[] = [];
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (resolveStopped = r));

  const fork = (role: ClusterRole): void => {
    // the database the primary was given or started (the embedded one has no DATABASE_URL in the environment)
    const worker = cluster.fork({ [CLUSTER_ROLE_ENV]: role, ROLE: role, DATABASE_URL: config.DATABASE_URL });
    roles.set(worker, role);
    worker.on('message', (m: unknown) => {
      if (!isMetricsMessage(m) || m.type !== METRICS_REQ) return;
      aggregator.clusterMetrics().then(
        (text) => worker.isConnected() && worker.send({ type: METRICS_RES, id: m.id, text } satisfies MetricsMessage),
        (err: unknown) => worker.isConnected() && worker.send({ type: METRICS_RES, id: m.id, error: err instanceof Error ? err.message : String(err) } satisfies MetricsMessage),
      );
    });
  };

  cluster.on('exit', (worker, code, signal) => {
    const role = roles.get(worker) ?? 'web';
    roles.delete(worker);
    if (stopping) {
      if (code !== 0) unclean = true;
      if (roles.size === 0) resolveStopped(unclean ? 1 : 0);
      return;
    }
    // a crash loop (5 deaths within a minute) is not fixed by forking again: stop and let the supervisor see it
    const now = Date.now();
    recentDeaths.push(now);
    while (recentDeaths.length > 0 && recentDeaths[0]! < now - 60_000) recentDeaths.shift();
    if (recentDeaths.length >= 5) {
      logger.fatal({ role, code, signal }, 'processes keep dying: stopping the cluster');
      unclean = true;
      stop('crash-loop');
      return;
    }
    logger.error({ role, pid: worker.process.pid, code, signal }, 'a cluster process died: starting another');
    fork(role);
  });

  function stop(signal: string): void {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, processes: roles.size }, 'stopping the cluster');
    if (roles.size === 0) resolveStopped(unclean ? 1 : 0);
    for (const worker of roles.keys()) worker.process.kill('SIGTERM');
    // each process stops itself within SHUTDOWN_TIMEOUT_MS; one that does not is killed
    setTimeout(() => {
      for (const worker of roles.keys()) {
        unclean = true;
        worker.process.kill('SIGKILL');
      }
    }, config.SHUTDOWN_TIMEOUT_MS + 5_000).unref();
  }

  for (let i = 0; i < config.WEB_CONCURRENCY; i++) fork('web');
  if (config.ROLE === 'all') fork('worker');
  logger.info({ web: config.WEB_CONCURRENCY, worker: config.ROLE === 'all' ? 1 : 0 }, 'cluster started');
  return { stopped, stop };
}
