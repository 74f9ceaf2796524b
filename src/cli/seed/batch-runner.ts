import type { Knex } from '../../platform/db.ts';
import type { Progress } from './progress.ts';

/** One INSERT of a batch: the statement for units lo..hi (inclusive) into `table`. */
export interface Step<T extends string> {
  table: T;
  sql(lo: number, hi: number): string;
}

/** Units 0..units-1 (users, theaters, bookings…) in batches of `step`; each batch runs its steps in order. */
export interface Phase<T extends string> {
  label: string;
  units: number;
  step: number;
  steps: Step<T>[];
}

export interface TableTotals {
  rows: number;
  seconds: number;
}

/**
 * Run a phase's batches, `jobs` at a time. A batch is one transaction running each step's statement in
 * order, so rows that reference each other (a booking, its seats, its payment) commit together and the
 * second statement finds the first one's rows still in the buffer cache. Returns the rows inserted per
 * table and each table's share of the phase's wall time (in proportion to its statements' time).
 */
export async function runPhase<T extends string>(
  db: Knex,
  phase: Phase<T>,
  jobs: number,
  progress: Progress,
): Promise<Map<T, TableTotals>> {
  const started = performance.now();
  const rows = new Map<T, number>();
  const busy = new Map<T, number>();
  for (const s of phase.steps) {
    rows.set(s.table, 0);
    busy.set(s.table, 0);
  }
  progress.start(phase.label, phase.units);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < phase.units) {
      const lo = next;
      const hi = Math.min(phase.units, lo + phase.step) - 1;
      next = hi + 1;
      await db.transaction(async (trx) => {
        // the generated statements look huge to the planner (generate_series guesses 1000 rows a call):
        // JIT would spend a second compiling each one, for batches that are small and simple
        await trx.raw(`SET LOCAL synchronous_commit = off; SET LOCAL jit = off; SET LOCAL work_mem = '64MB'`);
        for (const s of phase.steps) {
          const t0 = performance.now();
          const result = await trx.raw<{ rowCount: number }>(s.sql(lo, hi));
          rows.set(s.table, rows.get(s.table)! + result.rowCount);
          busy.set(s.table, busy.get(s.table)! + (performance.now() - t0));
        }
      });
      done += hi - lo + 1;
      progress.update(done);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, jobs) }, worker));
  } finally {
    progress.stop();
  }
  const wall = (performance.now() - started) / 1000;
  const totalBusy = [...busy.values()].reduce((a, b) => a + b, 0);
  const out = new Map<T, TableTotals>();
  for (const [table, n] of rows) {
    const share = totalBusy > 0 ? busy.get(table)! / totalBusy : 1 / rows.size;
    out.set(table, { rows: n, seconds: wall * share });
  }
  return out;
}
