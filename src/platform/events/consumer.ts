import type { ConfirmChannel, ConsumeMessage } from 'amqplib';
import { z } from 'zod';
import { runWithContext } from '../context.ts';
import type { Knex } from '../db.ts';
import type { Logger } from '../logger.ts';
import type { EventHandler, ModuleConsumer, Worker } from '../module.ts';
import type { Broker } from './broker.ts';
import { ManagedChannel } from './channel.ts';
import { deadLetterMessage, decodeDelivery, attemptOf, retryMessage, type DeliveryRoute } from './delivery.ts';
import type { Envelope } from './envelope.ts';
import type { ConsumeOutcome, EventMetrics } from './event-metrics.ts';
import { withConsumerSpan } from '../tracing/trace-context.ts';
import { declareTopology, queueNames, type Topology } from './topology.ts';

/** Thrown by a handler for an event that can never succeed: dead-lettered at once, without retries. */
export class PermanentEventError extends Error {
  override readonly name = 'PermanentEventError';
}

export interface EventConsumerOptions {
  broker: Broker;
  /** the module's pool; handlers run in a transaction on it */
  db: Knex;
  /** the schema holding the module's `inbox` */
  inboxSchema: string;
  consumer: ModuleConsumer;
  /** declared before consuming; must contain this consumer's queue */
  topology: Topology;
  prefetch: number;
  /** messages processed at once (default: prefetch); keep it below the module pool's size */
  concurrency?: number;
  /** deliveries of one event (first + retries) before it is dead-lettered */
  maxAttempts: number;
  logger: Logger;
  metrics?: EventMetrics;
}

/**
 * Consumes one module's queue. For each message: validate the envelope (malformed → dead letter), skip
 * event types the module has no handler for or has switched off, then — in ONE transaction on the
 * module's pool — insert the event id into the inbox and run the handler. A duplicate delivery finds the
 * id already there and is acknowledged without effect. A failing handler's message is re-published to a
 * retry queue with a back-off TTL (the original acked only after the broker confirmed the copy), and
 * dead-lettered after `maxAttempts`, while the queue keeps flowing.
 */
export class EventConsumer implements Worker {
  readonly name: string;
  private channel: ManagedChannel | undefined;
  private readonly consumerTags = new Map<ConfirmChannel, string>();
  private stopping = false;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly route: DeliveryRoute;

  private readonly o: EventConsumerOptions;

  constructor(options: EventConsumerOptions) {
    this.o = options;
    this.name = `event-consumer:${options.consumer.queue}`;
    this.route = {
      names: queueNames(options.consumer.queue, options.topology.retryDelaysMs),
      retryDelaysMs: options.topology.retryDelaysMs,
      deadLetterExchange: options.topology.deadLetterExchange,
    };
  }

  /**
   * Subscribe. When the broker is up this waits (bounded) until the queue is declared and consumed, so
   * relays started afterwards never publish into an exchange the queue is not bound to yet.
   */
  async start(readyWithinMs = 5_000): Promise<void> {
    if (this.channel) return;
    this.stopping = false;
    const queue = this.o.consumer.queue;
    this.channel = new ManagedChannel(this.o.broker.connection, {
      name: this.name,
      logger: this.o.logger,
      setup: async (ch) => {
        await declareTopology(ch, this.o.topology, { queues: [queue] });
        await ch.prefetch(this.o.prefetch);
        const { consumerTag } = await ch.consume(queue, (msg) => void this.onMessage(ch, msg));
        this.consumerTags.set(ch, consumerTag);
        ch.once('close', () => this.consumerTags.delete(ch));
      },
    });
    if (this.o.broker.isConnected() && !(await this.channel.waitUntilSetUp(readyWithinMs))) {
      this.o.logger.warn({ queue }, 'consumer not subscribed yet; it keeps trying in the background');
    }
  }

  /** Stop taking messages, let the ones in hand finish (ack), then close the channel. */
  async stop(): Promise<void> {
    if (!this.channel) return;
    this.stopping = true;
    for (const [ch, tag] of this.consumerTags) await ch.cancel(tag).catch(() => undefined);
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    await this.channel.close();
    this.channel = undefined;
    this.consumerTags.clear();
  }

  private async onMessage(ch: ConfirmChannel, msg: ConsumeMessage | null): Promise<void> {
    if (!msg) {
      // the broker cancelled us (queue deleted): closing the channel re-declares and re-consumes
      this.o.logger.warn({ queue: this.o.consumer.queue }, 'consumer cancelled by the broker; re-subscribing');
      await ch.close().catch(() => undefined);
      return;
    }
    if (this.stopping) {
      safely(() => ch.nack(msg, false, true));
      return;
    }
    this.inFlight++;
    await this.acquire();
    try {
      await this.process(ch, msg);
    } catch (err) {
      // ack or re-publish failed (channel gone): the broker redelivers; the inbox absorbs the duplicate
      this.o.logger.warn({ err, queue: this.o.consumer.queue, messageId: msg.properties.messageId }, 'message not settled; it will be redelivered');
    } finally {
      this.release();
      this.inFlight--;
      if (this.inFlight === 0) this.drained?.();
    }
  }

  private async acquire(): Promise<void> {
    if (this.active < (this.o.concurrency ?? this.o.prefetch)) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** hand the slot to the next waiting message, or free it */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  private async process(ch: ConfirmChannel, msg: ConsumeMessage): Promise<void> {
    const { consumer, logger, metrics } = this.o;
    const queue = consumer.queue;
    const attempt = attemptOf(msg);
    const decoded = decodeDelivery(msg);
    if (!decoded.ok) {
      await deadLetterMessage(ch, msg, this.route, attempt, `malformed: ${decoded.reason}`);
      this.count('unknown', 'malformed');
      logger.error({ queue, messageId: msg.properties.messageId, reason: decoded.reason }, 'malformed event dead-lettered');
      return;
    }
    const event = decoded.envelope;
    const handler = Object.hasOwn(consumer.handlers, event.event_type) ? consumer.handlers[event.event_type] : undefined;
    if (!handler) {
      ch.ack(msg);
      this.count(event.event_type, 'skipped');
      return;
    }
    if (consumer.enabled && !consumer.enabled(event.event_type)) {
      ch.ack(msg);
      this.count(event.event_type, 'disabled');
      return;
    }
    const timer = metrics?.handlerDuration.startTimer({ queue, event_type: event.event_type });
    try {
      const outcome = await this.apply(event, handler);
      timer?.();
      ch.ack(msg);
      this.count(event.event_type, outcome);
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      const permanent = err instanceof PermanentEventError || err instanceof z.ZodError;
      const log = { queue, eventId: event.event_id, eventType: event.event_type, attempt, err: reason };
      if (permanent || attempt >= this.o.maxAttempts) {
        await deadLetterMessage(ch, msg, this.route, attempt, reason);
        this.count(event.event_type, 'dead_lettered');
        logger.error(log, 'event handler failed for good; dead-lettered');
      } else {
        const delayMs = await retryMessage(ch, msg, this.route, attempt, reason);
        this.count(event.event_type, 'retried');
        logger.warn({ ...log, retryInMs: delayMs }, 'event handler failed; retrying later');
      }
    }
  }

  /** Inbox row and effect in one transaction, inside the event's correlation context and trace. */
  private apply(event: Envelope, handler: EventHandler): Promise<'handled' | 'duplicate'> {
    const userId = typeof event.metadata['user_id'] === 'string' ? event.metadata['user_id'] : undefined;
    const ctx = { correlationId: event.correlation_id, causationId: event.event_id, ...(userId ? { userId } : {}) };
    return runWithContext(ctx, () => withConsumerSpan(event, this.o.consumer.queue, () =>
      this.o.db.transaction(async (trx) => {
        const inserted = await trx
          .withSchema(this.o.inboxSchema)
          .table('inbox')
          .insert({ event_id: event.event_id, event_type: event.event_type })
          .onConflict('event_id')
          .ignore()
          .returning('event_id');
        if (inserted.length === 0) return 'duplicate' as const;
        await handler(event, trx);
        return 'handled' as const;
      }),
    ));
  }

  private count(eventType: string, outcome: ConsumeOutcome): void {
    this.o.metrics?.consumed.inc({ queue: this.o.consumer.queue, event_type: eventType, outcome });
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // channel already closed: the broker requeues what was not acked
  }
}
