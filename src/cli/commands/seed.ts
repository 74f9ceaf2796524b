import type { Command } from 'commander';
import { Databases } from '../../platform/db.ts';
import { cliContext, CliError, positiveInt } from '../context.ts';
import { LEGACY_TABLES, seedLegacy, type LegacySeedOptions, type LegacySeedResult } from '../seed/legacy-seed.ts';
import { SEED_PASSWORD } from '../seed/password-pool.ts';
import { createProgress } from '../seed/progress.ts';
import { registerSeedDemo } from '../seed/demo-seed.ts';

/** `boxoffice seed <kind>`: one subcommand per kind of data; each registers itself on the group here. */
export function registerSeed(program: Command): void {
  const seed = program.command('seed').description('fill the database with realistic data');
  registerLegacySeed(seed);
  registerSeedDemo(seed);
}

/** Parse a YYYY-MM-DD calendar day, naming the option on failure. */
function isoDay(name: string) {
  return (raw: string): string => {
    const d = new Date(`${raw}T00:00:00Z`);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(raw) || Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== raw) {
      throw new CliError(`${name} must be a day as YYYY-MM-DD, got "${raw}"`, 2);
    }
    return raw;
  };
}

const LEGACY_HELP = `
Every value is derived from (--seed, --epoch, the counts) by md5 in SQL, ids included: the same options
give identical rows on any machine. Dates are relative to --epoch (the generated world's "today", 00:00
UTC), not to the clock: showtimes run from 21 days before it to 7 days after, so pass --epoch "$(date -u +%F)"
for bookable showtimes today (and keep that date to reproduce the data).

What you get: users (5% of them book 30% of the tickets; every 5000th is an admin; ~1.5% inactive), movies,
theaters (screens of 8-18 rows A.. x 10-20 seats, standard/premium/vip), five showtimes a day per theater,
bookings of 1-4 adjacent seats (confirmed, cancelled, expired, and pending holds that expire after the
epoch; no seat of a showtime is ever in two bookings), total_price = showtime price x seats (the old
system charged every seat the showtime price), available_seats = seats minus pending/confirmed bookings,
a payment for every confirmed booking (completed) and for 60% of cancelled ones (refunded), and
notifications (a welcome per user, one per confirmed or cancelled booking).

Password: every seeded user's password is "${SEED_PASSWORD}" (bcrypt, $2b$, cost 10, as the old system
stored it). Signing in verifies it and rehashes it to argon2.

Rows are generated inside Postgres (INSERT ... SELECT over generate_series), in batches of --batch-size, each
batch one transaction (a batch of bookings commits with its seats, payments and notifications): an
interrupted run leaves whole batches behind; run again with --truncate. 1M bookings take about 2 minutes
on 2 cores (--jobs 2).

Examples:
  boxoffice seed legacy
  boxoffice seed legacy --users 100000 --movies 500 --bookings 1000000
  boxoffice seed legacy --truncate --seed 7 --epoch "$(date -u +%F)"
`;

type LegacyCliOptions = Omit<LegacySeedOptions, 'schema' | 'truncate'> & { truncate?: boolean };

function registerLegacySeed(seed: Command): void {
  seed
    .command('legacy')
    .description('fill the legacy shared tables (users ... notifications) with realistic, reproducible data')
    .option('--users <n>', 'number of users', positiveInt('--users', 1, 50_000_000), 1000)
    .option('--movies <n>', 'number of movies', positiveInt('--movies', 1, 1_000_000), 50)
    .option('--bookings <n>', 'number of bookings', positiveInt('--bookings', 0, 100_000_000), 5000)
    .option('--theaters <n>', 'number of theaters (screens), 140 showtimes each (default: one per 3,000 bookings)', positiveInt('--theaters', 1, 100_000))
    .option('--seed <n>', 'generator seed: the same options and seed give identical rows', positiveInt('--seed', 0, 2_147_483_647), 42)
    .option('--epoch <day>', 'the generated world\'s "today", YYYY-MM-DD (UTC)', isoDay('--epoch'), '2026-01-01')
    .option('--batch-size <n>', 'users, movies, theaters, showtimes or bookings per INSERT statement (one transaction each)', positiveInt('--batch-size', 100, 1_000_000), 10_000)
    .option('--jobs <n>', 'batches of a table inserted in parallel', positiveInt('--jobs', 1, 16), 2)
    .option('--truncate', 'empty the legacy tables first (without it, tables that hold rows are refused)')
    .addHelpText('after', LEGACY_HELP)
    .action(async (opts: LegacyCliOptions) => {
      const { config, out } = cliContext();
      const databases = new Databases({ ...config, DB_POOL_MAX: opts.jobs + 1 });
      try {
        const result = await seedLegacy(
          databases.forRole('legacy', config.LEGACY_SCHEMA),
          { ...opts, truncate: opts.truncate === true, schema: config.LEGACY_SCHEMA },
          createProgress(),
          (line) => process.stderr.write(`${line}\n`),
        );
        for (const line of summary(result)) out(line);
      } finally {
        await databases.closeAll();
      }
    });
}

const num = (n: number) => Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function summary(result: LegacySeedResult): string[] {
  const rows = (t: string, n: string, s: string, r: string) => `  ${t.padEnd(14)}${n.padStart(12)}${s.padStart(10)}${r.padStart(12)}`;
  const lines = [rows('table', 'rows', 'seconds', 'rows/s')];
  let total = 0;
  for (const t of result.tables) {
    total += t.rows;
    lines.push(rows(t.table, num(t.rows), t.seconds.toFixed(1), t.seconds > 0 ? num(t.rows / t.seconds) : '-'));
  }
  lines.push(rows('(analyze)', '', result.analyzeSeconds.toFixed(1), ''));
  lines.push(rows('total', num(total), result.totalSeconds.toFixed(1), num(total / result.totalSeconds)));
  const { shape } = result;
  return [
    `seeded ${LEGACY_TABLES.length} legacy tables in ${result.totalSeconds.toFixed(1)} s ` +
      `(seed ${shape.seed}, epoch ${shape.epoch}; theaters: ${num(shape.theaters)}, showtimes: ${num(result.showtimes)})`,
    ...lines,
    ...(result.sampleEmail
      ? [`sign in as ${result.sampleEmail} with password ${SEED_PASSWORD} (every seeded user has this password)`]
      : []),
  ];
}
