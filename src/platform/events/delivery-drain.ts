import type { Worker } from '../module.ts';
import type { DeliveryDispatcher, DeliveryDispatcherOptions } from './delivery-dispatcher.ts';

/**
 * After a switch from EVENTS_TRANSPORT=postgres back to the broker, the deliveries still waiting in a
 * consumer's `event_deliveries` table (published by the relay, not handled yet) would wait forever: the
 * outbox has them as sent. This worker looks once at start-up and, if any are there, runs the
 * dispatcher until none is left (dead letters stay), then stops it — no polling in a normal AMQP run.
 */
export class DeliveryDrain implements Worker {
  readonly name: string;
  private running: Promise<void> | undefined;
  private stopping = false;
  private readonly options: Pick<DeliveryDispatcherOptions, 'db' | 'schema' | 'pollIntervalMs' | 'logger'>;
  private readonly dispatcher: DeliveryDispatcher;

  constructor(dispatcher: DeliveryDispatcher, options: Pick<DeliveryDispatcherOptions, 'db' | 'schema' | 'pollIntervalMs' | 'logger'>) {
    this.dispatcher = dispatcher;
    this.options = options;
    this.name = `delivery-drain:${options.schema}`;
  }

  async start(): Promise<void> {
    this.stopping = false;
    const left = await this.pending().catch(() => 0);
    if (left === 0) return;
    this.options.logger.warn({ schema: this.options.schema, deliveries: left }, 'deliveries left by the Postgres transport; handling them before they are forgotten');
    await this.dispatcher.start();
    this.running = this.watch();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.running;
    await this.dispatcher.stop();
  }

  private pending(): Promise<number> {
    return this.options.db
      .withSchema(this.options.schema)
      .table('event_deliveries')
      .whereNull('dead_lettered_at')
      .count<{ n: string }[]>({ n: '*' })
      .then((rows) => Number(rows[0]?.n ?? 0));
  }

  private async watch(): Promise<void> {
    while (!this.stopping) {
      await new Promise((resolve) => setTimeout(resolve, this.options.pollIntervalMs));
      if ((await this.pending().catch(() => 1)) === 0) break;
    }
    if (!this.stopping) await this.dispatcher.stop();
  }
}
