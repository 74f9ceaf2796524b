import type { Queue } from 'bullmq';
import type { Knex } from '../../../platform/db.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { Metrics } from '../../../platform/metrics.ts';
import type { Worker } from '../../../platform/module.ts';
import type { DeliveryJobData } from './delivery-worker.ts';
import type { NotificationStore } from './notification-store.ts';
import type { SweepLease } from './sweep-lease.ts';

export interface SweeperDeps {
  db: Knex;
  store: NotificationStore;
  queue: Queue<DeliveryJobData>;
  enqueue: (id: string) => Promise<void>;
  /** who sweeps this interval (Redis, or a Postgres row with BACKEND=postgres) */
  lease: SweepLease;
  logger: Logger;
  metrics: Metrics;
  intervalMs: number;
  /** a pending notification untouched this long is checked for a live job */
  requeueAfterMs: number;
  /** a parked notification older than this is skipped */
  parkMs: number;
  batch?: number;
}

export interface SweepReport {
  requeued: number;
  expired: number;
}

const LIVE = new Set(['waiting', 'delayed', 'active', 'prioritized', 'waiting-children']);

/**
 * The safety net under "queue after commit": re-queues pending notifications whose job is gone (Redis
 * lost it, the enqueue failed, the job ended without settling the row), and skips parked notifications
 * whose user's address never arrived. Postgres is the source of truth; the queue is only the schedule.
 */
export async function sweepDeliveries(d: SweeperDeps, now = new Date()): Promise<SweepReport> {
  const batch = d.batch ?? 100;
  let requeued = 0;
  for (const n of await d.store.listStale(d.db, 'pending', new Date(now.getTime() - d.requeueAfterMs), batch)) {
    const state = await d.queue.getJobState(n.id);
    if (LIVE.has(state)) continue;
    if (state === 'completed' || state === 'failed') await (await d.queue.getJob(n.id))?.remove();
    await d.enqueue(n.id);
    await d.store.touch(d.db, n.id);
    requeued++;
  }
  let expired = 0;
  for (const n of await d.store.listStale(d.db, 'parked', new Date(now.getTime() - d.parkMs), batch)) {
    const moved = await d.store.transition(d.db, n.id, ['parked'], {
      status: 'skipped',
      statusReason: `no email address for the user arrived within ${Math.round(d.parkMs / 3_600_000)} h`,
    });
    if (moved) expired++;
  }
  if (requeued || expired) d.logger.info({ requeued, expired }, 'notification sweep');
  return { requeued, expired };
}

/** Runs sweepDeliveries every intervalMs; one process per interval does it (the lease). */
export function createDeliverySweeper(d: SweeperDeps): Worker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const intervals = d.metrics.counter('notification_sweep_intervals_total', 'Sweeper intervals by outcome: swept here, leased by another process, failed', ['outcome']);
  const tick = async () => {
    try {
      if (!(await d.lease(String(process.pid), d.intervalMs))) return intervals.inc({ outcome: 'leased_elsewhere' });
      await sweepDeliveries(d);
      intervals.inc({ outcome: 'swept' });
    } catch (err) {
      intervals.inc({ outcome: 'failed' });
      d.logger.warn({ err }, 'notification sweep failed; next interval retries');
    }
  };
  return {
    name: 'notification-sweeper',
    async start() {
      timer ??= setInterval(() => {
        running ??= tick().finally(() => (running = undefined));
      }, d.intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      // a sweep stuck on an unreachable store must not hold shutdown; the next start sweeps again
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise((r) => (bound = setTimeout(r, 5_000).unref()))]);
      clearTimeout(bound);
    },
  };
}
