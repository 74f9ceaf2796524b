import { MODULE_SCHEMAS } from '../config.ts';
import type { Worker } from '../module.ts';
import { outboxRelays, topologyFor, type EventBackbone, type EventBackboneOptions } from './backbone.ts';
import { DeliveryDispatcher } from './delivery-dispatcher.ts';
import { eventMetrics } from './event-metrics.ts';
import { PostgresOutboxPublisher } from './postgres-publisher.ts';

/**
 * The event backbone without a broker (EVENTS_TRANSPORT=postgres, ADR 0077): the same relays over the
 * same outboxes, publishing into the hosted consumers' `event_deliveries` tables, and one dispatcher per
 * consumer applying them through its inbox. Config guarantees every module is hosted here, so no event
 * has a consumer elsewhere. Web processes (ROLE=web) run neither: a worker process does, as with AMQP.
 */
export function createPostgresBackbone(options: EventBackboneOptions): EventBackbone | undefined {
  const { config, logger, flags } = options;
  if (config.ROLE === 'web') return undefined;
  const hosted = options.modules.filter((m) => m.outbox || m.consumer);
  if (hosted.length === 0) return undefined;

  const log = logger.child({ component: 'events', transport: 'postgres' });
  const metrics = eventMetrics(options.metrics);
  const consuming = hosted.flatMap((m) => (m.consumer ? [{ ...m, consumer: m.consumer, schema: MODULE_SCHEMAS[m.name] }] : []));
  const dispatchers = consuming.map(
    (m) =>
      new DeliveryDispatcher({
        db: m.db,
        schema: m.schema,
        consumer: m.consumer,
        // handlers share the module's pool with its HTTP requests: leave them half of it (as over AMQP)
        concurrency: Math.min(config.EVENTS_PREFETCH, Math.max(1, Math.floor(config.DB_POOL_MAX / 2))),
        maxAttempts: config.EVENTS_MAX_ATTEMPTS,
        retryDelaysMs: config.EVENTS_RETRY_DELAYS_MS,
        pollIntervalMs: config.EVENTS_RELAY_POLL_MS,
        logger: log.child({ module: m.name }),
        metrics,
      }),
  );
  const publisher = new PostgresOutboxPublisher(
    consuming.map((m, i) => ({ queue: m.consumer.queue, bindings: m.consumer.bindings, db: m.db, schema: m.schema, delivered: () => dispatchers[i]!.wake() })),
  );
  const relays = outboxRelays(hosted, publisher, { config, flags, logger: log, metrics });
  const publisherWorker: Worker = {
    name: 'events-postgres',
    async start() {},
    async stop() {
      await publisher.close();
    },
  };
  return {
    transport: 'postgres',
    broker: undefined,
    topology: topologyFor(config, consuming.map((m) => m.consumer)),
    relays,
    consumers: [],
    dispatchers,
    // dispatchers first, as consumers over AMQP; relays stop before the dispatchers they feed
    workers: [...dispatchers, ...relays, publisherWorker],
  };
}
