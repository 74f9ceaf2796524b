import { MODULE_SCHEMAS, type Config, type ModuleName } from '../config.ts';
import type { Knex } from '../db.ts';
import { FLAG_NAMES, type Flags, type FlagName } from '../flags.ts';
import type { Health } from '../health.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { ModuleConsumer, ModuleOutbox, Worker } from '../module.ts';
import { Broker } from './broker.ts';
import { EventConsumer } from './consumer.ts';
import { DeliveryDispatcher } from './delivery-dispatcher.ts';
import { DeliveryDrain } from './delivery-drain.ts';
import { eventMetrics, type EventMetrics } from './event-metrics.ts';
import { AmqpOutboxPublisher, type OutboxPublisher } from './publisher.ts';
import { OutboxRelay } from './relay.ts';
import type { Topology } from './topology.ts';

/** What the backbone needs of a hosted module. */
export interface HostedEventModule {
  name: ModuleName;
  /** the module's pool */
  db: Knex;
  outbox?: ModuleOutbox | undefined;
  consumer?: ModuleConsumer | undefined;
}

export interface EventBackboneOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  flags: Flags;
  health: Health;
  modules: HostedEventModule[];
}

export interface EventBackbone {
  /** EVENTS_TRANSPORT: through RabbitMQ, or through Postgres tables (ADR 0077) */
  transport: 'amqp' | 'postgres';
  /** undefined when events travel through Postgres */
  broker: Broker | undefined;
  topology: Topology;
  relays: OutboxRelay[];
  consumers: EventConsumer[];
  /** the Postgres transport's consumers (empty over AMQP) */
  dispatchers: DeliveryDispatcher[];
  /** broker first (waits, bounded, for the connection; closes it last), then consumers, then relays */
  workers: Worker[];
}

const PUBLISH_FLAG = /^publish_([a-z]+)_events$/;

/** Event domains whose `publish_<domain>_events` flag is off right now. Domains without a flag are not gated. */
export function disabledPublishDomains(flags: Pick<Flags, 'isEnabled'>): string[] {
  const off: string[] = [];
  for (const name of FLAG_NAMES as readonly FlagName[]) {
    const m = PUBLISH_FLAG.exec(name);
    if (m && !flags.isEnabled(name)) off.push(m[1]!);
  }
  return off;
}

/** The topology a process declares: the exchanges plus the queues of the consumers it hosts. */
export function topologyFor(config: Config, consumers: ModuleConsumer[]): Topology {
  return {
    exchange: config.EVENTS_EXCHANGE,
    deadLetterExchange: config.EVENTS_DLX,
    queueType: config.EVENTS_QUEUE_TYPE,
    retryDelaysMs: config.EVENTS_RETRY_DELAYS_MS,
    deliveryLimit: config.EVENTS_DELIVERY_LIMIT,
    queues: consumers.map((c) => ({ name: c.queue, bindings: c.bindings })),
  };
}

/**
 * The relays and consumers of the hosted modules, on one AMQP connection. Only processes that run
 * workers (ROLE worker|all) have one: web processes write their outboxes and never talk to the broker,
 * so they keep serving while it is down. Returns undefined when no hosted module publishes or consumes.
 */
/** One relay per hosted module's outbox, onto `publisher` (the broker, or the consumers' delivery tables). */
export function outboxRelays(
  modules: readonly HostedEventModule[],
  publisher: OutboxPublisher,
  o: { config: Config; flags: Pick<Flags, 'isEnabled'>; logger: Logger; metrics: EventMetrics },
): OutboxRelay[] {
  return modules.flatMap((m) =>
    m.outbox
      ? [new OutboxRelay({
          db: m.db,
          schema: m.outbox.schema,
          publisher,
          batchSize: o.config.EVENTS_RELAY_BATCH_SIZE,
          pollIntervalMs: o.config.EVENTS_RELAY_POLL_MS,
          maxAttempts: o.config.EVENTS_RELAY_MAX_ATTEMPTS,
          disabledDomains: () => disabledPublishDomains(o.flags),
          logger: o.logger.child({ module: m.name }),
          metrics: o.metrics,
        })]
      : [],
  );
}

export function createEventBackbone(options: EventBackboneOptions): EventBackbone | undefined {
  const { config, logger, flags } = options;
  if (config.ROLE === 'web') return undefined;
  const hosted = options.modules.filter((m) => m.outbox || m.consumer);
  if (hosted.length === 0) return undefined;

  const log = logger.child({ component: 'events' });
  const metrics = eventMetrics(options.metrics);
  const topology = topologyFor(config, hosted.flatMap((m) => (m.consumer ? [m.consumer] : [])));
  const broker = new Broker({
    url: config.AMQP_URL,
    logger: log,
    reconnectMs: config.AMQP_RECONNECT_MS,
    heartbeatSeconds: config.AMQP_HEARTBEAT_SECONDS,
  });
  // not critical: the outboxes keep events until the broker is back, requests are served meanwhile
  options.health.register('rabbitmq', () => broker.check(), { critical: false });

  const withOutbox = hosted.filter((m) => m.outbox);
  const publisher = withOutbox.length
    ? new AmqpOutboxPublisher({ broker, topology, timeoutMs: config.EVENTS_PUBLISH_TIMEOUT_MS, logger: log })
    : undefined;
  const relays = publisher ? outboxRelays(withOutbox, publisher, { config, flags, logger: log, metrics }) : [];
  const consumers = hosted
    .filter((m) => m.consumer)
    .map(
      (m) =>
        new EventConsumer({
          broker,
          db: m.db,
          inboxSchema: MODULE_SCHEMAS[m.name],
          consumer: m.consumer!,
          topology,
          prefetch: config.EVENTS_PREFETCH,
          // handlers share the module's pool with its HTTP requests: leave them half of it
          concurrency: Math.min(config.EVENTS_PREFETCH, Math.max(1, Math.floor(config.DB_POOL_MAX / 2))),
          maxAttempts: config.EVENTS_MAX_ATTEMPTS,
          logger: log.child({ module: m.name }),
          metrics,
        }),
    );

  const brokerWorker: Worker = {
    name: 'rabbitmq',
    async start() {
      if (!(await broker.waitForConnection(config.AMQP_CONNECT_WAIT_MS))) {
        log.warn('rabbitmq not reachable at start-up; relays and consumers start and catch up once it is');
      }
    },
    async stop() {
      await publisher?.close();
      await broker.close();
    },
  };
  // deliveries a former EVENTS_TRANSPORT=postgres run left behind are handled once, then nothing polls
  const drains = hosted.filter((m) => m.consumer).map((m) => drainFor(config, m, log));
  return { transport: 'amqp', broker, topology, relays, consumers, dispatchers: [], workers: [brokerWorker, ...consumers, ...drains, ...relays] };
}

function drainFor(config: Config, m: HostedEventModule, log: Logger): DeliveryDrain {
  const options = { db: m.db, schema: MODULE_SCHEMAS[m.name], pollIntervalMs: config.EVENTS_RELAY_POLL_MS, logger: log.child({ module: m.name }) };
  const dispatcher = new DeliveryDispatcher({
    ...options,
    consumer: m.consumer!,
    concurrency: 1,
    maxAttempts: config.EVENTS_MAX_ATTEMPTS,
    retryDelaysMs: config.EVENTS_RETRY_DELAYS_MS,
  });
  return new DeliveryDrain(dispatcher, options);
}
