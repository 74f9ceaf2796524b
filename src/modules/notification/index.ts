import { MODULE_SCHEMAS } from '../../platform/config.ts';
import type { Db } from '../../platform/db.ts';
import type { BoxofficeModule, PlatformDeps } from '../../platform/module.ts';
import { createBookingSnapshots } from './internal/booking-snapshots.ts';
import { channelFor, createEmailChannel, createLogChannel, mailDomain, type Channel } from './internal/channels.ts';
import { createDeliveryLog, type DeliveryAttempt } from './internal/delivery-log.ts';
import { createDeliverySweeper, sweepDeliveries, type SweepReport } from './internal/delivery-sweeper.ts';
import { createDeliveryProcessor, DELIVERY_QUEUE, type DeliveryJobData, type DeliveryResult } from './internal/delivery-worker.ts';
import { createEventHandlers } from './internal/event-handlers.ts';
import { createLegacyNotificationStore } from './internal/legacy-notification-store.ts';
import { NotificationService } from './internal/notification-service.ts';
import { postgresSweepLease, redisSweepLease } from './internal/sweep-lease.ts';
import { NOTIFICATION_STORE_METHODS } from './internal/notification-store.ts';
import { createOwnNotificationStore } from './internal/own-notification-store.ts';
import { createNotificationRoutes } from './internal/routes.ts';
import { createTemplateStore } from './internal/template-store.ts';
import type { NotificationRecord } from './internal/types.ts';
import { createUserPreferences, type UserPreferences } from './internal/user-preferences.ts';

export { notificationFailedV1, notificationSentV1 } from './internal/events.ts';
export { createNotificationMapping } from './internal/notification-mapping.ts';
export type { NotificationView } from './internal/views.ts';
export type { DeliveryAttempt, NotificationRecord, SweepReport, UserPreferences };
export { DELIVERY_QUEUE };

/**
 * What other modules may use of notification: nothing synchronous — it is a sink that reacts to
 * everyone's events (seed 002 §6.4), so there is nothing to adapt in-process or remotely.
 */
export type NotificationFacade = Record<string, never>;

/** Operator and test hooks, not for other modules. */
export interface NotificationAdmin {
  /** one sweeper pass now (what the sweeper does every NOTIFICATION_SWEEP_INTERVAL_MS) */
  sweep(now?: Date): Promise<SweepReport>;
  find(id: string): Promise<NotificationRecord | undefined>;
  deliveryLog(notificationId: string): Promise<DeliveryAttempt[]>;
  preferences(userId: string, db?: Db): Promise<UserPreferences | undefined>;
}

export type NotificationModule = BoxofficeModule<NotificationFacade> & {
  admin: NotificationAdmin;
  channel: Channel['name'];
};

const SCHEMA = MODULE_SCHEMAS.notification;
/** the sweeper's lease: `<REDIS_KEY_PREFIX>notification:sweep` in Redis, or this row of sweep_leases */
export const SWEEP_LEASE = 'notification:sweep';

export function createNotificationModule(deps: PlatformDeps): NotificationModule {
  const { config, db, logger, jobs } = deps;
  const store = deps.stores.route({
    module: 'notification',
    name: 'notifications',
    legacy: createLegacyNotificationStore(config.LEGACY_SCHEMA),
    own: createOwnNotificationStore(SCHEMA),
    methods: NOTIFICATION_STORE_METHODS,
  });
  const channel: Channel =
    channelFor(config) === 'email'
      ? createEmailChannel({ smtpUrl: config.SMTP_URL!, from: config.SMTP_FROM, timeoutMs: config.NOTIFICATION_SEND_TIMEOUT_MS })
      : createLogChannel(logger);
  const prefs = createUserPreferences(SCHEMA);
  const log = createDeliveryLog(SCHEMA);
  const queue = jobs.queue<DeliveryJobData, DeliveryResult>(DELIVERY_QUEUE, {
    attempts: config.NOTIFICATION_MAX_ATTEMPTS,
    backoffMs: config.NOTIFICATION_BACKOFF_MS,
  });
  // the job id is the notification id: queueing one twice is a no-op while the first job exists
  const enqueue = async (id: string) => void (await queue.add('deliver', { notificationId: id }, { jobId: id }));
  const service = new NotificationService({ db, store, templates: createTemplateStore(SCHEMA), prefs, enqueue, logger });
  const lockMs = 2 * config.NOTIFICATION_SEND_TIMEOUT_MS + 10_000;
  const sweeper = {
    db, store, queue, enqueue, logger, metrics: deps.metrics,
    lease: deps.redis ? redisSweepLease(deps.redis, `${config.REDIS_KEY_PREFIX}${SWEEP_LEASE}`) : postgresSweepLease(db, SWEEP_LEASE),
    intervalMs: config.NOTIFICATION_SWEEP_INTERVAL_MS,
    requeueAfterMs: config.NOTIFICATION_REQUEUE_AFTER_MS,
    parkMs: config.NOTIFICATION_PARK_HOURS * 3_600_000,
  };
  const processor = createDeliveryProcessor({
    db, store, log, channel, logger,
    outboxSchema: SCHEMA,
    maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS,
    lockMs,
    messageIdDomain: mailDomain(config.SMTP_FROM),
  });
  logger.info({ stores: deps.stores.describe('notification'), channel: channel.name }, 'notification module ready');
  return {
    name: 'notification',
    facade: {},
    channel: channel.name,
    admin: {
      sweep: (now) => sweepDeliveries(sweeper, now),
      find: (id) => store.findById(db, id),
      deliveryLog: (id) => log.list(db, id),
      preferences: (userId, over = db) => prefs.get(over, userId),
    },
    routes: createNotificationRoutes({ service, authenticator: deps.authenticator }),
    workers: [
      jobs.worker(DELIVERY_QUEUE, processor, { concurrency: config.NOTIFICATION_CONCURRENCY, lockDurationMs: lockMs }),
      createDeliverySweeper(sweeper),
    ],
    queues: [queue],
    outbox: { schema: SCHEMA },
    consumer: {
      queue: 'notification-service.events',
      bindings: ['#'],
      handlers: createEventHandlers({ service, prefs, snapshots: createBookingSnapshots(SCHEMA), logger, metrics: deps.metrics }),
    },
    async start() {},
    async stop() {
      await channel.close();
    },
    async health() {
      await db.raw('select 1');
      return { status: 'ok', details: { stores: deps.stores.describe('notification'), channel: channel.name } };
    },
  };
}
