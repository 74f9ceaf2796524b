import { isDatabaseUnavailable, type Knex } from '../db.ts';
import type { Logger } from '../logger.ts';
import type { Worker } from '../module.ts';
import type { EventMetrics } from './event-metrics.ts';
import { outboxChannel } from './outbox-ddl.ts';
import { claimBatch, markFailed, markPublished, outboxLag, type OutboxLag } from './outbox-store.ts';
import type { OutboxPublisher } from './publisher.ts';

export interface RelayOptions {
  /** the module's pool (its role owns the outbox) */
  db: Knex;
  schema: string;
  publisher: OutboxPublisher;
  batchSize: number;
  pollIntervalMs: number;
  /** publish attempts after which a row is parked */
  maxAttempts: number;
  /** event domains whose publish_<domain>_events flag is off, asked before every batch */
  disabledDomains: () => string[];
  logger: Logger;
  metrics?: EventMetrics;
  /** LISTEN for the outbox trigger's NOTIFY (default true); polling runs either way */
  listen?: boolean;
}

interface PgConnection {
  query(sql: string): Promise<unknown>;
  on(event: string, fn: (arg?: unknown) => void): void;
  off(event: string, fn: (arg?: unknown) => void): void;
}

interface PoolClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(c: PgConnection): Promise<void>;
}

interface Listener {
  conn: PgConnection;
  handlers: [string, (arg?: unknown) => void][];
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Publishes one module's outbox (transactional outbox, relay side). Each batch, in one transaction:
 * lock up to `batchSize` unpublished rows (FOR UPDATE SKIP LOCKED, so relays in several processes share
 * the table), publish them on a confirm channel, and mark `published_at` only for the rows the broker
 * confirmed. A crash after the confirm and before the commit leaves the rows unpublished: they go out
 * again (at-least-once; consumers de-duplicate through their inbox). Rows of a domain whose publish flag
 * is off are not claimed; they stay and go out once the flag is on. Wakes on NOTIFY or every poll interval.
 */
export class OutboxRelay implements Worker {
  readonly name: string;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wakeUp: (() => void) | undefined;
  private pendingWake = false;
  private failures = 0;
  private listener: Listener | undefined;
  private listenAttemptAt = 0;
  private rounds = 0;
  private untrack: (() => void) | undefined;

  private readonly o: RelayOptions;

  constructor(options: RelayOptions) {
    this.o = options;
    this.name = `outbox-relay:${options.schema}`;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.stopping = false;
    this.untrack = this.o.metrics?.trackLag(this.o.schema, () => this.lag());
    this.running = this.loop();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.untrack?.();
    this.wake();
    await this.running;
    this.running = undefined;
    await this.unlisten();
  }

  /** Batches this relay has tried since it started, published or not (lets a test wait for rounds to pass). */
  get batches(): number {
    return this.rounds;
  }

  /** What the relay has not published yet (for gauges and cutover guards). */
  lag(): Promise<OutboxLag> {
    return outboxLag(this.o.db, this.o.schema, { disabledDomains: this.o.disabledDomains(), maxAttempts: this.o.maxAttempts });
  }

  /** One batch: claim, publish, mark. Returns how many rows were published. */
  async relayOnce(): Promise<{ claimed: number; published: number; failed: number }> {
    const { db, schema, publisher } = this.o;
    if (!publisher.ready()) return { claimed: 0, published: 0, failed: 0 };
    const disabledDomains = this.o.disabledDomains();
    return db.transaction(async (trx) => {
      const rows = await claimBatch(trx, schema, { batchSize: this.o.batchSize, disabledDomains, maxAttempts: this.o.maxAttempts });
      if (rows.length === 0) return { claimed: 0, published: 0, failed: 0 };
      const results = await Promise.allSettled(rows.map((row) => publisher.publish(row)));
      const confirmed: string[] = [];
      const failures: { id: string; error: string }[] = [];
      results.forEach((r, i) => {
        const row = rows[i]!;
        if (r.status === 'fulfilled') {
          confirmed.push(row.id);
          this.o.metrics?.published.inc({ schema, event_type: row.event_type });
        } else {
          failures.push({ id: row.id, error: r.reason instanceof Error ? r.reason.message : String(r.reason) });
          this.o.metrics?.publishFailures.inc({ schema });
        }
      });
      await markPublished(trx, schema, confirmed);
      await markFailed(trx, schema, failures);
      if (failures.length > 0) {
        this.o.logger.warn({ schema, failed: failures.length, published: confirmed.length, error: failures[0]?.error }, 'outbox rows not confirmed; will retry');
      }
      return { claimed: rows.length, published: confirmed.length, failed: failures.length };
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.o.listen !== false) await this.ensureListening();
      let full = false;
      try {
        const r = await this.relayOnce();
        full = r.claimed === this.o.batchSize && r.failed === 0;
        this.failures = r.failed > 0 ? this.failures + 1 : 0;
      } catch (err) {
        this.failures++;
        this.o.logger[isDatabaseUnavailable(err) ? 'debug' : 'warn']({ err, schema: this.o.schema }, 'outbox relay batch failed');
      }
      this.rounds++;
      if (this.stopping) break;
      if (full) continue;
      const backoff = this.failures > 0 ? Math.min(this.o.pollIntervalMs * 2 ** Math.min(this.failures, 10), MAX_BACKOFF_MS) : 0;
      await this.sleep(Math.max(backoff, this.o.pollIntervalMs), backoff === 0);
    }
  }

  /** Sleep until the timeout, or until NOTIFY when `wakeable` (stop always wakes). */
  private async sleep(ms: number, wakeable: boolean): Promise<void> {
    if (wakeable && this.pendingWake) {
      this.pendingWake = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        if (!wakeable && !this.stopping) return;
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeUp = undefined;
    this.pendingWake = false;
  }

  private wake(): void {
    this.pendingWake = true;
    this.wakeUp?.();
  }

  private async ensureListening(): Promise<void> {
    if (this.listener || Date.now() - this.listenAttemptAt < 5_000) return;
    this.listenAttemptAt = Date.now();
    const pool = this.o.db.client as PoolClient;
    let conn: PgConnection | undefined;
    try {
      conn = await pool.acquireConnection();
      const acquired = conn;
      const listener: Listener = { conn: acquired, handlers: [] };
      const lost = (err?: unknown) => {
        if (this.listener !== listener) return;
        this.o.logger.warn({ err: (err as Error | undefined)?.message, schema: this.o.schema }, 'outbox LISTEN connection lost; polling until it is back');
        void this.unlisten();
      };
      listener.handlers = [
        ['notification', () => this.wake()],
        ['error', lost],
        ['end', lost],
      ];
      for (const [event, fn] of listener.handlers) acquired.on(event, fn);
      this.listener = listener;
      await acquired.query(`LISTEN "${outboxChannel(this.o.schema).replace(/"/g, '""')}"`);
    } catch (err) {
      // an outage is logged once by the pools (ADR 0076)
      this.o.logger[isDatabaseUnavailable(err) ? 'debug' : 'warn']({ err, schema: this.o.schema }, 'outbox LISTEN failed; polling');
      if (this.listener?.conn === conn) await this.unlisten();
      else if (conn) await pool.releaseConnection(conn).catch(() => undefined);
    }
  }

  private async unlisten(): Promise<void> {
    const listener = this.listener;
    if (!listener) return;
    this.listener = undefined;
    try {
      await listener.conn.query('UNLISTEN *');
    } catch {
      // a broken connection is dropped by the pool's validation
    }
    for (const [event, fn] of listener.handlers) listener.conn.off(event, fn);
    await (this.o.db.client as PoolClient).releaseConnection(listener.conn).catch(() => undefined);
  }
}
