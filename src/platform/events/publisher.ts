import type { Options } from 'amqplib';
import type { Logger } from '../logger.ts';
import type { Broker } from './broker.ts';
import { ManagedChannel } from './channel.ts';
import { envelopeSchema, type Envelope } from './envelope.ts';
import type { OutboxRow } from './outbox-store.ts';
import { withPublishSpan } from '../tracing/trace-context.ts';
import { declareTopology, type Topology } from './topology.ts';

/** Where the relay sends rows. The AMQP one is below; tests and the crash drill wrap it. */
export interface OutboxPublisher {
  /** whether publishing can be attempted now (the relay does not claim rows otherwise) */
  ready(): boolean;
  /** resolves once the broker confirmed the message; rejects on nack, timeout or an invalid row */
  publish(row: OutboxRow): Promise<void>;
  close(): Promise<void>;
}

export class InvalidOutboxRowError extends Error {
  override readonly name = 'InvalidOutboxRowError';
}

/** The AMQP message for an envelope: persistent JSON, messageId = event_id, correlation in properties and headers. */
export function toAmqpMessage(envelope: Envelope): { content: Buffer; options: Options.Publish } {
  return {
    content: Buffer.from(JSON.stringify(envelope)),
    options: {
      persistent: true,
      messageId: envelope.event_id,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      type: envelope.event_type,
      appId: envelope.source,
      timestamp: Math.floor(Date.parse(envelope.timestamp) / 1000),
      correlationId: envelope.correlation_id,
      headers: {
        'x-correlation-id': envelope.correlation_id,
        ...(envelope.causation_id ? { 'x-causation-id': envelope.causation_id } : {}),
        'x-event-version': envelope.event_version,
      },
    },
  };
}

/** Validate an outbox row's envelope: a row that would poison every consumer is never sent. */
export function envelopeOf(row: OutboxRow): Envelope {
  const parsed = envelopeSchema.safeParse(row.envelope);
  if (!parsed.success) throw new InvalidOutboxRowError(`invalid envelope: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (parsed.data.event_id !== row.event_id || parsed.data.event_type !== row.event_type) {
    throw new InvalidOutboxRowError('envelope event_id/event_type differ from the row');
  }
  return parsed.data;
}

export interface AmqpPublisherOptions {
  broker: Broker;
  /** its exchanges are declared on every (re)connect before anything is published (queues are the consumers') */
  topology: Topology;
  timeoutMs: number;
  logger: Logger;
  name?: string;
}

/** Publishes to the events exchange on a confirm channel (amqp-connection-manager). */
export class AmqpOutboxPublisher implements OutboxPublisher {
  private channel: ManagedChannel | undefined;
  private closed = false;
  private readonly options: AmqpPublisherOptions;

  constructor(options: AmqpPublisherOptions) {
    this.options = options;
  }

  /** The confirm channel, opened on first use (it declares the topology on every reconnect). */
  private ensureChannel(): ManagedChannel {
    this.channel ??= new ManagedChannel(this.options.broker.connection, {
      name: this.options.name ?? 'outbox-relay',
      logger: this.options.logger,
      setup: (channel) => declareTopology(channel, this.options.topology, { queues: [] }),
    });
    return this.channel;
  }

  ready(): boolean {
    if (this.closed) return false;
    return this.options.broker.isConnected() && this.ensureChannel().channel !== undefined;
  }

  async publish(row: OutboxRow): Promise<void> {
    const envelope = envelopeOf(row);
    const { content, options } = toAmqpMessage(envelope);
    const wrapper = this.ensureChannel().current;
    const exchange = this.options.topology.exchange;
    await withPublishSpan(envelope, exchange, () => wrapper.publish(exchange, row.routing_key, content, { ...options, timeout: this.options.timeoutMs }));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.channel?.close();
  }
}
