import type { Server } from 'node:http';
import { raceDeadline } from './deadline.ts';
import type { Health } from './health.ts';
import type { Logger } from './logger.ts';

export interface ShutdownHook {
  name: string;
  run: () => Promise<void>;
}

export interface ShutdownOptions {
  server?: Server;
  health: Health;
  inFlight: () => number;
  timeoutMs: number;
  logger: Logger;
  /** run in order after requests have drained: workers, modules, then pools */
  hooks: ShutdownHook[];
}

export interface ShutdownResult {
  clean: boolean;
  drainedMs: number;
  forcedConnections: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Graceful stop: report not-ready, stop accepting, let in-flight requests finish, then close workers,
 * modules and pools — all within one bound. Past the bound the remaining connections are cut.
 */
export async function gracefulShutdown(options: ShutdownOptions): Promise<ShutdownResult> {
  const { server, health, logger } = options;
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  health.markDraining();
  const closed = server
    ? new Promise<void>((resolve) => server.close(() => resolve()))
    : Promise.resolve();
  server?.closeIdleConnections();
  logger.info({ inFlight: options.inFlight() }, 'draining: no new connections; requests in flight finish');

  while (options.inFlight() > 0 && Date.now() < deadline) await sleep(20);
  const drainedMs = Date.now() - started;
  let forcedConnections = false;
  if (options.inFlight() > 0) {
    forcedConnections = true;
    logger.warn({ inFlight: options.inFlight() }, 'shutdown bound reached with requests in flight; closing them');
  }
  server?.closeAllConnections();
  // bounds are cleared as soon as their step is done: none keeps a CLI command alive afterwards
  await raceDeadline(closed, Math.max(0, deadline - Date.now()));

  let clean = !forcedConnections;
  for (const hook of options.hooks) {
    const left = Math.max(100, deadline - Date.now());
    try {
      if (!(await raceDeadline(hook.run(), left)).done) throw new Error(`${hook.name} did not stop within ${left} ms`);
    } catch (err) {
      clean = false;
      logger.error({ err, hook: hook.name }, 'shutdown step failed');
    }
  }
  logger.info({ ms: Date.now() - started, clean }, 'shutdown complete');
  return { clean, drainedMs, forcedConnections };
}
