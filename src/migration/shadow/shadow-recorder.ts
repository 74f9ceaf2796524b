import type { ModuleName } from '../../platform/config.ts';
import type { Knex } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Worker } from '../../platform/module.ts';
import type { FieldDifference } from '../compare.ts';

export interface ShadowMismatch {
  module: ModuleName;
  aggregate: string;
  key: string;
  method: string;
  kind: 'fields' | 'missing_in_own' | 'missing_in_legacy' | 'result';
  fields: FieldDifference[];
}

type Outcome = 'match' | 'mismatch' | 'error' | 'timeout';
interface StatsRow { module: string; bucket: Date; compared: number; mismatched: number; errors: number; timeouts: number }

/**
 * Where shadow reads leave their findings for operators and for the cutover guards: every mismatch as a
 * row of migration.shadow_mismatches (at once), and how many reads were compared per module and minute in
 * migration.shadow_read_stats (added up in memory, flushed every few seconds) — the guard's denominator.
 */
export class ShadowRecorder implements Worker {
  readonly name = 'shadow-read-recorder';
  private pending = new Map<string, StatsRow>();
  private timer: NodeJS.Timeout | undefined;
  private readonly db: Knex;
  private readonly logger: Logger;
  private readonly flushMs: number;

  constructor(db: Knex, logger: Logger, flushMs = 2_000) {
    this.db = db;
    this.logger = logger;
    this.flushMs = flushMs;
  }

  async mismatches(found: ShadowMismatch[]): Promise<void> {
    if (found.length === 0) return;
    await this.db('migration.shadow_mismatches').insert(
      found.map((m) => ({ module: m.module, aggregate: m.aggregate, key: m.key, method: m.method, kind: m.kind, fields: JSON.stringify(m.fields) })),
    );
  }

  count(module: ModuleName, outcome: Outcome): void {
    const bucket = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const id = `${module}@${bucket.getTime()}`;
    const row = this.pending.get(id) ?? { module, bucket, compared: 0, mismatched: 0, errors: 0, timeouts: 0 };
    if (outcome === 'match' || outcome === 'mismatch') row.compared++;
    if (outcome === 'mismatch') row.mismatched++;
    if (outcome === 'error') row.errors++;
    if (outcome === 'timeout') row.timeouts++;
    this.pending.set(id, row);
  }

  async flush(): Promise<void> {
    const taken = [...this.pending.entries()];
    this.pending = new Map();
    let failure: unknown;
    for (const [id, r] of taken) {
      try {
        if (failure === undefined) await this.write(r);
        else throw failure;
      } catch (err) {
        failure = err;
        // keep the counts for the next flush, added to whatever arrived meanwhile
        const now = this.pending.get(id);
        if (now) for (const k of ['compared', 'mismatched', 'errors', 'timeouts'] as const) now[k] += r[k];
        else this.pending.set(id, r);
      }
    }
    if (failure !== undefined) throw failure;
  }

  private async write(r: StatsRow): Promise<void> {
    await this.db.raw(
      `INSERT INTO migration.shadow_read_stats AS s (module, bucket, compared, mismatched, errors, timeouts) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (module, bucket) DO UPDATE SET compared = s.compared + EXCLUDED.compared, mismatched = s.mismatched + EXCLUDED.mismatched,
         errors = s.errors + EXCLUDED.errors, timeouts = s.timeouts + EXCLUDED.timeouts`,
      [r.module, r.bucket, r.compared, r.mismatched, r.errors, r.timeouts],
    );
  }

  async start(): Promise<void> {
    const tick = () => {
      this.timer = setTimeout(() => {
        this.flush()
          .catch((err: unknown) => this.logger.warn({ err }, 'shadow read counts not flushed; will retry'))
          .finally(tick);
      }, this.flushMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush().catch((err: unknown) => this.logger.warn({ err }, 'shadow read counts lost at shutdown'));
  }
}
