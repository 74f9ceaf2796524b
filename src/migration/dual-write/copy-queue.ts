import type { ModuleName } from '../../platform/config.ts';
import type { Knex } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import type { AggregateMapping, ModuleMapping } from '../../platform/mapping/aggregate-mapping.ts';
import type { Metrics } from '../../platform/metrics.ts';
import type { Worker } from '../../platform/module.ts';
import { functionNames } from '../sql/sync-objects.ts';

export interface CopyQueueOptions {
  /** the migration role's pool on DATABASE_URL (the queue, and the legacy side's generated docs functions) */
  db: Knex;
  /** modules whose own schema lives in a database of its own, with that database's pool */
  targets: Partial<Record<ModuleName, Knex>>;
  mappings: ReadonlyMap<ModuleName, ModuleMapping>;
  /** back-off per failed attempt; the last repeats */
  delaysMs: number[];
  batchSize: number;
  pollMs: number;
  metrics: Metrics;
  logger: Logger;
}

interface Claimed {
  aggregate: string;
  key: string;
  seq: string;
  attempts: number;
}

/**
 * The copies a module in a database of its own is owed (ADR 0050). The capture triggers put the key of
 * every aggregate written on the legacy side into migration.dual_write_queue in the writing transaction —
 * so a copy is never lost, whatever happens after the commit — and this worker copies them over: claim a
 * batch, load the documents from the legacy side, write them into the module's database, and delete the
 * rows it copied. A row written again meanwhile (its seq moved on) stays for the next round; a failed copy
 * backs off (attempts, next_attempt_at, last_error: the migration.dual_write_failures view).
 */
export class CopyQueue implements Worker {
  readonly name = 'dual-write-copy-queue';
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private readonly options: CopyQueueOptions;
  private readonly copies;

  constructor(options: CopyQueueOptions) {
    this.options = options;
    this.copies = options.metrics.counter('dual_write_copies_total', 'Owed copies to a module database, by module and result', ['module', 'result']);
  }

  /** One pass over every module: returns how many aggregates were copied. */
  async drain(): Promise<number> {
    let copied = 0;
    for (const module of Object.keys(this.options.targets) as ModuleName[]) {
      for (;;) {
        const n = await this.drainBatch(module);
        copied += n.copied;
        if (n.claimed < this.options.batchSize) break;
      }
    }
    return copied;
  }

  private async drainBatch(module: ModuleName): Promise<{ claimed: number; copied: number }> {
    const { db, batchSize } = this.options;
    const { rows } = (await db.raw(
      `UPDATE migration.dual_write_queue q SET claimed_until = now() + interval '60 seconds'
         FROM (SELECT module, aggregate, key, direction FROM migration.dual_write_queue
                WHERE module = ? AND direction = 'to_own' AND next_attempt_at <= now() AND (claimed_until IS NULL OR claimed_until < now())
                ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED) c
        WHERE q.module = c.module AND q.aggregate = c.aggregate AND q.key = c.key AND q.direction = c.direction
        RETURNING q.aggregate, q.key, q.seq, q.attempts`,
      [module, batchSize],
    )) as { rows: Claimed[] };
    if (rows.length === 0) return { claimed: 0, copied: 0 };
    const mapping = this.options.mappings.get(module)!;
    let copied = 0;
    // in declaration order: referenced aggregates (movies) before the ones pointing at them (showtimes)
    for (const aggregate of mapping.aggregates) {
      const claimed = rows.filter((r) => r.aggregate === aggregate.name);
      if (claimed.length === 0) continue;
      try {
        await this.copy(module, mapping, aggregate, claimed.map((c) => c.key));
        await this.settle(module, aggregate.name, claimed);
        copied += claimed.length;
        this.copies.inc({ module, result: 'copied' }, claimed.length);
      } catch (err) {
        await this.backOff(module, aggregate.name, claimed, err);
        this.copies.inc({ module, result: 'failed' }, claimed.length);
        this.options.logger.warn({ err, module, aggregate: aggregate.name, keys: claimed.length }, 'copy to the module database failed; will retry');
      }
    }
    return { claimed: rows.length, copied };
  }

  /** Legacy documents → the module database, bringing along referenced aggregates it lacks. */
  async copy(module: ModuleName, mapping: ModuleMapping, aggregate: AggregateMapping, keys: string[]): Promise<void> {
    const target = this.options.targets[module]!;
    const docs = await this.legacyDocs(aggregate, keys);
    for (const ref of aggregate.references ?? []) {
      const parent = mapping.aggregates.find((a) => a.name === ref.aggregate)!;
      const wanted = [...new Set(docs.map((d) => (d as Record<string, unknown>)[ref.field]).filter((k): k is string => typeof k === 'string'))];
      if (wanted.length === 0) continue;
      const present = new Set(((await target.withSchema(mapping.ownSchema).table(parent.own.table).whereIn('id', wanted).pluck('id')) as string[]));
      const missing = wanted.filter((k) => !present.has(k));
      if (missing.length > 0) await this.copy(module, mapping, parent, missing);
    }
    const name = functionNames(aggregate).write('own');
    await target.raw(`SELECT migration.${name}(?::jsonb, ?::uuid[])`, [JSON.stringify(docs), keys]);
  }

  private async legacyDocs(aggregate: AggregateMapping, keys: string[]): Promise<unknown[]> {
    const name = functionNames(aggregate).docs('legacy');
    const { rows } = (await this.options.db.raw(`SELECT doc FROM migration.${name}(?::uuid[])`, [keys])) as { rows: { doc: unknown }[] };
    return rows.map((r) => r.doc);
  }

  private async settle(module: ModuleName, aggregate: string, claimed: Claimed[]): Promise<void> {
    await this.options.db.raw(
      `DELETE FROM migration.dual_write_queue q USING unnest(?::uuid[], ?::bigint[]) AS c(key, seq)
        WHERE q.module = ? AND q.aggregate = ? AND q.direction = 'to_own' AND q.key = c.key AND q.seq = c.seq`,
      [claimed.map((c) => c.key), claimed.map((c) => c.seq), module, aggregate],
    );
    // rows written again while we copied keep their new seq: free them for the next round
    await this.options.db('migration.dual_write_queue')
      .where({ module, aggregate, direction: 'to_own' })
      .whereIn('key', claimed.map((c) => c.key))
      .update({ claimed_until: null });
  }

  private async backOff(module: ModuleName, aggregate: string, claimed: Claimed[], err: unknown): Promise<void> {
    const { delaysMs } = this.options;
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 1000);
    for (const c of claimed) {
      const delay = delaysMs[Math.min(c.attempts, delaysMs.length - 1)]!;
      await this.options.db.raw(
        `UPDATE migration.dual_write_queue SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?),
                claimed_until = NULL, last_error = ? WHERE module = ? AND aggregate = ? AND key = ? AND direction = 'to_own'`,
        [delay / 1000, message, module, aggregate, c.key],
      );
    }
  }

  /** Owed copies per module: how many, how many failed at least once, the oldest (gauges, guards, status). */
  async depth(): Promise<{ module: string; owed: number; failing: number; oldest_seconds: number | null }[]> {
    const { rows } = (await this.options.db.raw(
      `SELECT module, count(*)::int AS owed, count(*) FILTER (WHERE attempts > 0)::int AS failing,
              extract(epoch FROM now() - min(first_queued_at))::float AS oldest_seconds
         FROM migration.dual_write_queue GROUP BY module`,
    )) as { rows: { module: string; owed: number; failing: number; oldest_seconds: number | null }[] };
    return rows;
  }

  async start(): Promise<void> {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        this.running = this.drain()
          .then(() => undefined)
          .catch((err: unknown) => this.options.logger.warn({ err }, 'dual-write copy pass failed; will retry'))
          .finally(() => {
            this.running = undefined;
            tick();
          });
      }, this.options.pollMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
