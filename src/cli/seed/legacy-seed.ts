import { sqlState, type Knex } from '../../platform/db.ts';
import { CliError } from '../context.ts';
import { runPhase, type Phase } from './batch-runner.ts';
import { CapacityError, planBookings, sliceForBookings, sliceForShowtimes, type BookingPlan, type PlanSlice } from './booking-plan.ts';
import { SHOWTIMES_PER_THEATER, showtimeCount, type SeedShape } from './legacy-model.ts';
import { legacyStatements, type Statements } from './legacy-statements.ts';
import { bcryptPool, SEED_PASSWORD } from './password-pool.ts';
import type { Progress } from './progress.ts';
import { idOf } from './sql-hash.ts';

/** The old system's shared tables, parents first. */
export const LEGACY_TABLES = [
  'users', 'movies', 'theaters', 'seats', 'showtimes', 'bookings', 'booking_seats', 'payments', 'notifications',
] as const;
export type LegacyTable = (typeof LEGACY_TABLES)[number];

/**
 * Bookings per theater when --theaters is not given: about a fifth of the seats sold, busy evenings fuller
 * (a showtime tops out near 60%: one booking per 4-seat block).
 */
const BOOKINGS_PER_THEATER = 3000;

export interface LegacySeedOptions {
  schema: string;
  users: number;
  movies: number;
  bookings: number;
  /** default: derived from bookings */
  theaters?: number;
  seed: number;
  /** YYYY-MM-DD */
  epoch: string;
  batchSize: number;
  /** batches run this many at a time (each its own connection and transaction) */
  jobs: number;
  truncate: boolean;
}

export interface TableResult {
  table: LegacyTable;
  rows: number;
  /** wall time; tables filled in one batch transaction share it in proportion to their statements' time */
  seconds: number;
}

export interface LegacySeedResult {
  shape: SeedShape;
  showtimes: number;
  tables: TableResult[];
  analyzeSeconds: number;
  totalSeconds: number;
  /** an active seeded user, to sign in with SEED_PASSWORD */
  sampleEmail: string | undefined;
}

type LegacyPhase = Phase<LegacyTable>;

const since = (t0: number) => (performance.now() - t0) / 1000;

async function checkTables(db: Knex, schema: string): Promise<void> {
  let missing: string[];
  try {
    const { rows } = await db.raw<{ rows: { t: string; found: string | null }[] }>(
      `SELECT t, to_regclass(format('%I.%I', ?::text, t)) AS found FROM unnest(?::text[]) AS t`,
      [schema, `{${LEGACY_TABLES.join(',')}}`],
    );
    missing = rows.filter((r) => r.found === null).map((r) => r.t);
  } catch (err) {
    const code = sqlState(err);
    if (code === '22023' || code === '42704' || code === '3D000') {
      throw new CliError(`cannot connect as the legacy role: ${(err as Error).message} — run \`boxoffice migrate\` first`);
    }
    throw err;
  }
  if (missing.length > 0) {
    throw new CliError(`legacy table(s) ${missing.join(', ')} not found in schema "${schema}" — run \`boxoffice migrate\` first`);
  }
}

async function nonEmptyTables(db: Knex, schema: string): Promise<string[]> {
  const sql = LEGACY_TABLES.map((t) => `SELECT '${t}' AS t WHERE EXISTS (SELECT 1 FROM "${schema}".${t})`).join(' UNION ALL ');
  const { rows } = await db.raw<{ rows: { t: string }[] }>(sql);
  return rows.map((r) => r.t);
}

async function demandOf(db: Knex, shape: SeedShape, schema: string): Promise<{ caps: number[]; demands: number[] }> {
  const { rows } = await db.raw<{ rows: { caps: number[]; demands: number[] }[] }>(
    legacyStatements(shape, schema, []).showtimeDemand(),
  );
  return rows[0]!;
}

/** The theater count (given, or derived from the bookings) and the booking plan over its showtimes. */
async function shapeAndPlan(db: Knex, options: LegacySeedOptions): Promise<{ shape: SeedShape; plan: BookingPlan }> {
  const base = { seed: options.seed, epoch: options.epoch, users: options.users, movies: options.movies, bookings: options.bookings };
  let theaters = options.theaters ?? Math.max(1, Math.ceil(options.bookings / BOOKINGS_PER_THEATER));
  for (;;) {
    const shape: SeedShape = { ...base, theaters };
    const { caps, demands } = await demandOf(db, shape, options.schema);
    try {
      return { shape, plan: planBookings(options.bookings, caps, demands) };
    } catch (err) {
      if (!(err instanceof CapacityError)) throw err;
      const enough = Math.ceil((theaters * options.bookings * 1.25) / Math.max(err.slots, 1));
      if (options.theaters === undefined) {
        theaters = Math.max(enough, theaters + 1);
        continue;
      }
      throw new CliError(
        `--theaters ${theaters} gives ${theaters * SHOWTIMES_PER_THEATER} showtimes with room for ${err.slots} bookings ` +
          `(one per 4-seat block), fewer than --bookings ${options.bookings}; use --theaters ${enough} or more, or leave it out`,
        2,
      );
    }
  }
}

function phases(shape: SeedShape, plan: BookingPlan, st: Statements, batch: number): LegacyPhase[] {
  const showtimes = showtimeCount(shape);
  const one = (table: LegacyTable, sql: (lo: number, hi: number) => string) => [{ table, sql }];
  const byBooking = (table: LegacyTable, f: (s: PlanSlice) => string) => ({
    table,
    sql: (lo: number, hi: number) => f(sliceForBookings(plan, lo, hi)),
  });
  const perShowtime = Math.max(1, shape.bookings / showtimes);
  return [
    { label: 'users', units: shape.users, step: batch, steps: one('users', st.users) },
    { label: 'movies', units: shape.movies, step: batch, steps: one('movies', st.movies) },
    { label: 'theaters', units: shape.theaters, step: batch, steps: one('theaters', st.theaters) },
    { label: 'seats (by theater)', units: shape.theaters, step: Math.max(1, Math.floor(batch / 200)), steps: one('seats', st.seats) },
    {
      label: 'showtimes',
      units: showtimes,
      step: Math.max(1, Math.floor(batch / perShowtime)),
      steps: one('showtimes', (lo, hi) => st.showtimes(sliceForShowtimes(plan, lo, hi))),
    },
    { label: 'notifications (welcome)', units: shape.users, step: batch, steps: one('notifications', st.welcomeNotifications) },
    // a booking, its seats, its payment and its notification commit together (see batch-runner.ts)
    {
      label: 'bookings (+seats/payments/notif.)',
      units: shape.bookings,
      step: batch,
      steps: [
        byBooking('bookings', st.bookings),
        byBooking('booking_seats', st.bookingSeats),
        byBooking('payments', st.payments),
        byBooking('notifications', st.bookingNotifications),
      ],
    },
  ];
}

/**
 * Fill the legacy shared tables. Refuses tables that already hold rows unless `truncate`. Every row is a
 * pure function of the options (see legacy-model.ts), so a rerun with the same options reproduces the data.
 */
export async function seedLegacy(
  db: Knex,
  options: LegacySeedOptions,
  progress: Progress,
  log: (line: string) => void,
): Promise<LegacySeedResult> {
  const t0 = performance.now();
  const { schema } = options;
  await checkTables(db, schema);
  const { shape, plan } = await shapeAndPlan(db, options);

  const occupied = await nonEmptyTables(db, schema);
  if (occupied.length > 0 && !options.truncate) {
    throw new CliError(
      `the legacy tables in schema "${schema}" already hold rows (${occupied.join(', ')}); ` +
        'pass --truncate to empty them first (this deletes them), or seed a fresh database',
    );
  }
  if (occupied.length > 0) {
    await db
      .transaction(async (trx) => {
        await trx.raw(`SET LOCAL lock_timeout = '10s'`);
        await trx.raw(`TRUNCATE ${LEGACY_TABLES.map((t) => `"${schema}".${t}`).join(', ')}`);
      })
      .catch((err: unknown) => {
        if (sqlState(err) !== '55P03') throw err;
        throw new CliError('the legacy tables are in use (no lock within 10 s): stop the services using them and run again');
      });
    log(`emptied the legacy tables in schema "${schema}" (${occupied.join(', ')})`);
  }

  log(
    `seeding schema "${schema}": ${shape.users} users, ${shape.movies} movies, ${shape.theaters} theaters, ` +
      `${showtimeCount(shape)} showtimes, ${shape.bookings} bookings (seed ${shape.seed}, epoch ${shape.epoch})`,
  );
  const statements = legacyStatements(shape, schema, bcryptPool(SEED_PASSWORD, shape.seed));
  const totals = new Map<LegacyTable, TableResult>();
  for (const phase of phases(shape, plan, statements, options.batchSize)) {
    for (const [table, t] of await runPhase(db, phase, options.jobs, progress)) {
      const entry = totals.get(table) ?? { table, rows: 0, seconds: 0 };
      entry.rows += t.rows;
      entry.seconds += t.seconds;
      totals.set(table, entry);
    }
  }

  // fresh planner statistics, so the first queries against the seeded tables are not planned blind
  const analyzeStarted = performance.now();
  await db.raw(`ANALYZE ${LEGACY_TABLES.map((t) => `"${schema}".${t}`).join(', ')}`);
  const analyzeSeconds = since(analyzeStarted);

  const sample = await db.raw<{ rows: { email: string }[] }>(
    `SELECT email FROM "${schema}".users WHERE id = ${idOf(shape.seed, 'user', '1')}`,
  );
  return {
    shape,
    showtimes: showtimeCount(shape),
    tables: LEGACY_TABLES.map((t) => totals.get(t) ?? { table: t, rows: 0, seconds: 0 }),
    analyzeSeconds,
    totalSeconds: since(t0),
    sampleEmail: sample.rows[0]?.email,
  };
}
