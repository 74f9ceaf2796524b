import type { Command } from 'commander';
import { composeApp } from '../../compose.ts';
import type { MovieAdmin } from '../../modules/movie/index.ts';
import { cliContext, CliError, positiveInt } from '../context.ts';

/** A small catalog a new user can browse and book at once. Prices in the configured currency (VND by default). */
const MOVIES = [
  { title: 'The Last Projectionist', duration_minutes: 118, genre: 'Drama', rating: 'PG-13', release_date: '2025-11-07', description: 'A night-shift projectionist keeps an old cinema alive for one more season.' },
  { title: 'Orbit of Lanterns', duration_minutes: 132, genre: 'Sci-Fi', rating: 'PG-13', release_date: '2025-12-19', description: 'A salvage crew finds a lighthouse drifting between two moons.' },
  { title: 'Monsoon Express', duration_minutes: 104, genre: 'Action', rating: 'PG-13', release_date: '2026-01-16', description: 'A train, a storm, and a package that must reach Hue by dawn.' },
  { title: 'Paper Cranes', duration_minutes: 95, genre: 'Animation', rating: 'G', release_date: '2025-09-26', description: 'A girl folds a thousand cranes; one of them folds back.' },
];

const rows = (spec: [string, number, 'standard' | 'premium' | 'vip'][]) => spec.map(([row, seats, type]) => ({ row, seats, type }));
const THEATERS = [
  { name: 'Boxoffice Central - Screen 1', city: 'Hanoi', layout: { rows: rows([['A', 12, 'standard'], ['B', 12, 'standard'], ['C', 12, 'standard'], ['D', 12, 'premium'], ['E', 10, 'vip']]) } },
  { name: 'Boxoffice Central - Screen 2', city: 'Hanoi', layout: { rows: rows([['A', 10, 'standard'], ['B', 10, 'standard'], ['C', 10, 'premium'], ['D', 8, 'vip']]) } },
  { name: 'Boxoffice Riverside - Screen 1', city: 'Ho Chi Minh City', layout: { rows: rows([['A', 14, 'standard'], ['B', 14, 'standard'], ['C', 14, 'standard'], ['D', 14, 'premium'], ['E', 12, 'vip']]) } },
];

/** local start times of the day's shows, and their base prices */
const SLOTS = [
  { hour: 10, price: '75000' },
  { hour: 14, price: '90000' },
  { hour: 19, price: '110000' },
];

export interface DemoSeedOptions {
  days: number;
  /** the cinemas' offset from UTC in hours (slots are local times) */
  utcOffsetHours: number;
  now?: Date;
}

/** The shows every demo theater gets from `now` on: `days` local days × SLOTS, less those starting within 30 min. */
export function demoShowSlots(options: Pick<DemoSeedOptions, 'days' | 'utcOffsetHours'>, now: Date): { day: number; slot: number; start: Date; price: string }[] {
  const offsetMs = options.utcOffsetHours * 3_600_000;
  const localToday = new Date(now.getTime() + offsetMs);
  const day0 = Date.UTC(localToday.getUTCFullYear(), localToday.getUTCMonth(), localToday.getUTCDate());
  const shows = [];
  for (let day = 0; day < options.days; day++) {
    for (const [slot, { hour, price }] of SLOTS.entries()) {
      const start = new Date(day0 + day * 86_400_000 + hour * 3_600_000 - offsetMs);
      if (start.getTime() >= now.getTime() + 30 * 60_000) shows.push({ day, slot, start, price });
    }
  }
  return shows;
}

export interface DemoSeedResult {
  movies: { created: number; existing: number };
  theaters: { created: number; existing: number };
  showtimes: { created: number; existing: number };
}

/**
 * Idempotent: movies are matched by title, theaters by name, and a showtime is only created where its
 * theater has nothing at that time — running it again (or the next day) adds only what is missing.
 * Shows that would start within the next 30 minutes are skipped.
 */
export async function seedDemoCatalog(admin: MovieAdmin, options: DemoSeedOptions): Promise<DemoSeedResult> {
  const now = options.now ?? new Date();
  const result: DemoSeedResult = { movies: { created: 0, existing: 0 }, theaters: { created: 0, existing: 0 }, showtimes: { created: 0, existing: 0 } };
  const count = (bucket: { created: number; existing: number }, created: boolean) => (created ? bucket.created++ : bucket.existing++);
  const movies = [];
  for (const m of MOVIES) {
    const { movie, created } = await admin.ensureMovie(m);
    count(result.movies, created);
    movies.push(movie);
  }
  const theaters = [];
  for (const th of THEATERS) {
    const { theater, created } = await admin.ensureTheater(th);
    count(result.theaters, created);
    theaters.push(theater);
  }
  for (const show of demoShowSlots(options, now)) {
    for (const [ti, theater] of theaters.entries()) {
      const movie = movies[(show.day + ti + show.slot) % movies.length]!;
      const { created } = await admin.ensureShowtime({ movie_id: movie.id, theater_id: theater.id, start_time: show.start.toISOString(), base_price: show.price });
      count(result.showtimes, created);
    }
  }
  return result;
}

/** `boxoffice seed demo`, registered on the `seed` command group. */
export function registerSeedDemo(seed: Command): void {
  seed
    .command('demo')
    .description('a small catalog (movies, theaters, showtimes for the next days) through the movie module; safe to run again')
    .option('--days <n>', 'days of showtimes from today', positiveInt('--days', 1, 60), 7)
    .option('--utc-offset <hours>', "the cinemas' offset from UTC in hours (show times are local)", (raw: string) => {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < -12 || n > 14) throw new CliError(`--utc-offset must be a whole number from -12 to 14, got "${raw}"`, 2);
      return n;
    }, 7)
    .action(async (opts: { days: number; utcOffset: number }) => {
      const { config, logger, out } = cliContext();
      const app = await composeApp({ ...config, MODULES: ['auth', 'movie'], ROLE: 'web', DB_POOL_MAX: 2 }, { logger });
      try {
        if (!app.movie) throw new CliError('the movie module is not available');
        const r = await seedDemoCatalog(app.movie.admin, { days: opts.days, utcOffsetHours: opts.utcOffset });
        out(`demo catalog (${app.strangler.router.describe('movie').writes} store): movies ${r.movies.created} created, ${r.movies.existing} already there; ` +
          `theaters ${r.theaters.created} created, ${r.theaters.existing} already there; showtimes ${r.showtimes.created} created, ${r.showtimes.existing} already there`);
      } finally {
        await app.stop();
      }
    });
}
