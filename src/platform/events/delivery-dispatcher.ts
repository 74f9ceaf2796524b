import { z } from 'zod';
import { isDatabaseUnavailable, type Knex } from '../db.ts';
import type { Logger } from '../logger.ts';
import type { ModuleConsumer, Worker } from '../module.ts';
import { PermanentEventError } from './consumer.ts';
import { envelopeSchema } from './envelope.ts';
import type { ConsumeOutcome, EventMetrics } from './event-metrics.ts';
import { applyInTransaction } from './inbox.ts';

export interface DeliveryDispatcherOptions {
  /** the consuming module's pool; each delivery is handled in a transaction on it */
  db: Knex;
  /** the schema holding the module's `inbox` and `event_deliveries` */
  schema: string;
  consumer: ModuleConsumer;
  /** deliveries handled at once (each holds a connection while its handler runs) */
  concurrency: number;
  /** attempts (first + retries) before a delivery is dead-lettered */
  maxAttempts: number;
  /** back-off after the n-th failed attempt; the last one repeats */
  retryDelaysMs: number[];
  /** how often idle lanes look for due rows (retries, rows another process inserted) */
  pollIntervalMs: number;
  logger: Logger;
  metrics?: EventMetrics;
}

interface DeliveryRow {
  event_id: string;
  envelope: unknown;
  attempts: number;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * The consumer side of the Postgres transport (ADR 0077), one per consuming module. Each lane takes the
 * oldest due row of the module's `event_deliveries` (FOR UPDATE SKIP LOCKED: lanes and processes never
 * take the same row) and, in that row's transaction, writes the inbox row, runs the handler and deletes
 * the delivery — effect, inbox and dequeue commit together, so a crash anywhere repeats the whole step
 * and never half of it. The handler runs in a savepoint: when it fails, its writes are undone and the
 * row gets its next attempt time (EVENTS_RETRY_DELAYS_MS), or `dead_lettered_at` after `maxAttempts`
 * or a PermanentEventError/ZodError — the same rules as the AMQP consumer, other rows keep flowing.
 */
export class DeliveryDispatcher implements Worker {
  readonly name: string;
  private lanes: Promise<void>[] = [];
  private stopping = false;
  /** idle lanes' wake-ups; `wakeable` false: a back-off after a failure, cut short only by stop */
  private readonly sleepers = new Map<() => void, boolean>();
  private pendingWake = false;
  private readonly o: DeliveryDispatcherOptions;

  constructor(options: DeliveryDispatcherOptions) {
    this.o = options;
    this.name = `event-dispatcher:${options.consumer.queue}`;
  }

  async start(): Promise<void> {
    if (this.lanes.length > 0) return;
    this.stopping = false;
    this.lanes = Array.from({ length: Math.max(1, this.o.concurrency) }, (_, i) => this.lane(i));
  }

  /** Let the deliveries in hand finish (commit), then return. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake();
    await Promise.all(this.lanes);
    this.lanes = [];
  }

  /** A row was inserted for this consumer: idle lanes look now instead of at their next poll. */
  wake(): void {
    // a lane between its query and its sleep must not miss the row
    this.pendingWake = true;
    for (const [wakeUp, wakeable] of [...this.sleepers]) if (wakeable || this.stopping) wakeUp();
  }

  /** Take and settle one due delivery. Returns false when none was due. */
  async dispatchOnce(): Promise<boolean> {
    const { db, schema, consumer } = this.o;
    return db.transaction(async (trx) => {
      const { rows } = await trx.raw<{ rows: DeliveryRow[] }>(
        `SELECT event_id, envelope, attempts FROM ??.event_deliveries
          WHERE dead_lettered_at IS NULL AND next_attempt_at <= now()
          ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [schema],
      );
      const row = rows[0];
      if (!row) return false;
      const attempt = row.attempts + 1;
      const parsed = envelopeSchema.safeParse(row.envelope);
      if (!parsed.success) {
        await this.deadLetter(trx, row, attempt, `malformed: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
        this.count('unknown', 'malformed');
        return true;
      }
      const event = parsed.data;
      const handler = Object.hasOwn(consumer.handlers, event.event_type) ? consumer.handlers[event.event_type] : undefined;
      if (!handler || (consumer.enabled && !consumer.enabled(event.event_type))) {
        // as the AMQP consumer acks them: an event type without a handler, or switched off, is dropped
        await this.remove(trx, row);
        this.count(event.event_type, handler ? 'disabled' : 'skipped');
        return true;
      }
      const timer = this.o.metrics?.handlerDuration.startTimer({ queue: consumer.queue, event_type: event.event_type });
      try {
        // a savepoint: a failing handler's writes are undone, the row's bookkeeping below still commits
        const outcome = await trx.transaction((sp) => applyInTransaction(sp, schema, event, handler));
        timer?.();
        await this.remove(trx, row);
        this.count(event.event_type, outcome);
      } catch (err) {
        if (isDatabaseUnavailable(err)) throw err;
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        const log = { queue: consumer.queue, eventId: event.event_id, eventType: event.event_type, attempt, err: reason };
        if (err instanceof PermanentEventError || err instanceof z.ZodError || attempt >= this.o.maxAttempts) {
          await this.deadLetter(trx, row, attempt, reason);
          this.count(event.event_type, 'dead_lettered');
          this.o.logger.error(log, 'event handler failed for good; dead-lettered');
        } else {
          const delays = this.o.retryDelaysMs;
          const delayMs = delays[Math.min(attempt, delays.length) - 1] ?? delays[0] ?? 1_000;
          await trx.withSchema(schema).table('event_deliveries').where({ event_id: row.event_id })
            .update({ attempts: attempt, last_error: reason.slice(0, 1_000), next_attempt_at: trx.raw(`now() + ? * interval '1 millisecond'`, [delayMs]) });
          this.count(event.event_type, 'retried');
          this.o.logger.warn({ ...log, retryInMs: delayMs }, 'event handler failed; retrying later');
        }
      }
      return true;
    });
  }

  /**
   * Lane 0 polls; the others, idle, only look every ten poll intervals unless woken — by an insert in
   * this process, or by a lane that found work (there may be more) — so an idle consumer costs one query
   * per interval, not one per lane.
   */
  private async lane(index: number): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      let busy = false;
      this.pendingWake = false;
      try {
        busy = await this.dispatchOnce();
        failures = 0;
      } catch (err) {
        failures++;
        this.o.logger[isDatabaseUnavailable(err) ? 'debug' : 'warn']({ err, queue: this.o.consumer.queue }, 'event dispatch failed; the delivery stays and is retried');
      }
      if (this.stopping) break;
      if (busy) {
        this.wake();
        continue;
      }
      const backoff = failures > 0 ? Math.min(this.o.pollIntervalMs * 2 ** Math.min(failures, 10), MAX_BACKOFF_MS) : 0;
      const idle = index === 0 ? this.o.pollIntervalMs : this.o.pollIntervalMs * 10;
      await this.sleep(Math.max(backoff, idle), backoff === 0);
    }
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (wakeable && this.pendingWake) {
      this.pendingWake = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.set(done, wakeable);
    });
  }

  private remove(trx: Knex.Transaction, row: DeliveryRow): Promise<unknown> {
    return trx.withSchema(this.o.schema).table('event_deliveries').where({ event_id: row.event_id }).delete();
  }

  private deadLetter(trx: Knex.Transaction, row: DeliveryRow, attempt: number, reason: string): Promise<unknown> {
    return trx.withSchema(this.o.schema).table('event_deliveries').where({ event_id: row.event_id })
      .update({ attempts: attempt, last_error: reason.slice(0, 1_000), dead_lettered_at: trx.fn.now() });
  }

  private count(eventType: string, outcome: ConsumeOutcome): void {
    this.o.metrics?.consumed.inc({ queue: this.o.consumer.queue, event_type: eventType, outcome });
  }
}
