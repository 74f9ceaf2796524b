import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type pg from 'pg';
import { api, startTestApp } from '../helpers/app.ts';
import { connectAs, createTestDatabase, type TestDatabase } from '../helpers/db.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TABLES = ['users', 'movies', 'theaters', 'seats', 'showtimes', 'bookings', 'booking_seats', 'payments', 'notifications'];
const DATA = ['--users', '300', '--movies', '20', '--bookings', '2000'];
// small, but several batches per table (--batch-size 300) run two at a time (--jobs 2)
const OPTIONS = [...DATA, '--batch-size', '300', '--jobs', '2'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function seed(url: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/boxoffice.js', 'seed', 'legacy', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function withClient<T>(db: TestDatabase, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = await connectAs(db.url);
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const one = async (c: pg.Client, sql: string): Promise<number> => Number(Object.values((await c.query(sql)).rows[0])[0]);

/** md5 over every table's rows in id order: equal checksums mean identical data, ids included. */
function checksums(db: TestDatabase): Promise<Record<string, string>> {
  return withClient(db, async (c) => {
    const out: Record<string, string> = {};
    for (const t of TABLES) {
      const { rows } = await c.query(`SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x.id), '')) AS sum FROM ${t} x`);
      out[t] = rows[0].sum as string;
    }
    return out;
  });
}

let a: TestDatabase;
let b: TestDatabase;
let first: Run;
let second: Run;

test.before(async () => {
  [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  // the same data options, batched differently: batching must not change the data
  [first, second] = await Promise.all([seed(a.url, OPTIONS), seed(b.url, [...DATA, '--batch-size', '700', '--jobs', '1'])]);
  if (first.code !== 0) throw new Error(`seed failed (${first.code}): ${first.stderr}`);
  if (second.code !== 0) throw new Error(`seed failed (${second.code}): ${second.stderr}`);
});

test.after.always(async () => {
  await Promise.all([a?.drop(), b?.drop()]);
});

test.serial('the same options give identical rows (ids included, however batched); --truncate with another --seed gives different rows', async (t) => {
  const [sumA, sumB] = await Promise.all([checksums(a), checksums(b)]);
  t.deepEqual(sumB, sumA);

  const reseeded = await seed(b.url, [...OPTIONS, '--truncate', '--seed', '7']);
  t.is(reseeded.code, 0, reseeded.stderr);
  t.regex(reseeded.stderr, /emptied the legacy tables/);
  const sumC = await checksums(b);
  for (const table of TABLES) t.not(sumC[table], sumA[table], `${table} should differ with another seed`);
});

test('exact row counts, and the summary reports what the tables hold', async (t) => {
  await withClient(a, async (c) => {
    t.is(await one(c, 'SELECT count(*) FROM users'), 300);
    t.is(await one(c, 'SELECT count(*) FROM movies'), 20);
    t.is(await one(c, 'SELECT count(*) FROM theaters'), 1, 'one theater per 3,000 bookings, at least one');
    t.is(await one(c, 'SELECT count(*) FROM showtimes'), 140, '28 days x 5 slots per theater');
    t.is(await one(c, 'SELECT count(*) FROM bookings'), 2000);
    t.is(await one(c, 'SELECT count(*) FROM seats'), await one(c, 'SELECT sum(total_seats) FROM theaters'));
    t.is(
      await one(c, 'SELECT count(*) FROM notifications'),
      300 + (await one(c, `SELECT count(*) FROM bookings WHERE status IN ('confirmed', 'cancelled')`)),
      'a welcome per user and one per confirmed or cancelled booking',
    );
    for (const table of TABLES) {
      const rows = (await one(c, `SELECT count(*) FROM ${table}`)).toLocaleString('en-US');
      t.regex(first.stdout, new RegExp(`^\\s+${table}\\s+${rows}\\s`, 'm'), `summary line for ${table}`);
    }
    t.regex(first.stdout, /^\s+total\s+[\d,]+\s+[\d.]+/m);
  });
  // not a TTY here: plain progress lines, ending at 100% for each table
  t.regex(first.stderr, /^seed: bookings\b.*\s100% \(2000\/2000\)/m);
  const bookingLines = first.stderr.match(/^seed: bookings\b.*\s\d+% \(\d+\/2000\)/gm) ?? [];
  t.true(bookingLines.length >= 5, `a line per ~5% step reached: ${bookingLines.join('; ')}`);
});

test('the data is consistent: seats, totals, availability, payments, schedule', async (t) => {
  await withClient(a, async (c) => {
    const active = `b.status IN ('pending', 'confirmed')`;
    t.is(await one(c, `SELECT count(*) FROM (SELECT bs.showtime_id, bs.seat_id FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id
      WHERE ${active} GROUP BY 1, 2 HAVING count(*) > 1) x`), 0, 'no seat of a showtime held by two active bookings');
    t.is(await one(c, `SELECT count(*) FROM booking_seats bs JOIN seats se ON se.id = bs.seat_id JOIN bookings b ON b.id = bs.booking_id
      JOIN showtimes s ON s.id = b.showtime_id WHERE se.theater_id <> s.theater_id OR bs.showtime_id <> b.showtime_id`), 0,
      'seats belong to the booked showtime\'s theater');
    t.is(await one(c, `SELECT count(*) FROM bookings b JOIN showtimes s ON s.id = b.showtime_id
      LEFT JOIN (SELECT booking_id, count(*) AS n FROM booking_seats GROUP BY 1) x ON x.booking_id = b.id
      WHERE x.n IS NULL OR x.n NOT BETWEEN 1 AND 4 OR b.total_price <> s.price * x.n`), 0, '1-4 seats, total = seats x showtime price');
    t.is(await one(c, `SELECT count(*) FROM showtimes s JOIN theaters th ON th.id = s.theater_id
      LEFT JOIN (SELECT bs.showtime_id, count(*) AS n FROM booking_seats bs JOIN bookings b ON b.id = bs.booking_id WHERE ${active} GROUP BY 1) x
        ON x.showtime_id = s.id
      WHERE s.available_seats <> th.total_seats - coalesce(x.n, 0)`), 0, 'available_seats = seats - actively held seats');
    t.true(await one(c, `SELECT count(*) FROM showtimes s JOIN theaters th ON th.id = s.theater_id WHERE s.available_seats < th.total_seats`) > 0);
    t.is(await one(c, `SELECT count(*) FROM payments p JOIN bookings b ON b.id = p.booking_id
      WHERE NOT ((b.status = 'confirmed' AND p.status = 'completed') OR (b.status = 'cancelled' AND p.status = 'refunded'))
        OR p.amount <> b.total_price OR p.user_id <> b.user_id`), 0, 'payments only for confirmed or refunded bookings, for their total');
    t.is(await one(c, `SELECT count(*) FROM bookings b WHERE b.status = 'confirmed'
      AND (SELECT count(*) FROM payments p WHERE p.booking_id = b.id) <> 1`), 0, 'exactly one payment per confirmed booking');
    t.true(await one(c, `SELECT count(*) FROM payments WHERE status = 'refunded'`) > 0);
    t.is(await one(c, 'SELECT count(DISTINCT idempotency_key) FROM payments'), await one(c, 'SELECT count(*) FROM payments'));
    t.deepEqual(
      (await c.query('SELECT DISTINCT status FROM bookings ORDER BY 1')).rows.map((r) => r.status),
      ['cancelled', 'confirmed', 'expired', 'pending'],
    );
    t.is(await one(c, `SELECT count(*) FROM bookings WHERE status = 'pending' AND expires_at <= timestamp '2026-01-01'`), 0,
      'pending holds expire after the epoch');
    t.is(await one(c, `SELECT count(*) FROM showtimes s JOIN movies m ON m.id = s.movie_id
      WHERE s.end_time <> s.start_time + m.duration_minutes * interval '1 minute'`), 0, 'end_time = start + duration');
    t.is(await one(c, `SELECT count(*) FROM (SELECT end_time, lead(start_time) OVER (PARTITION BY theater_id ORDER BY start_time) AS next
      FROM showtimes) x WHERE next < end_time`), 0, 'showtimes of a theater do not overlap');
    t.deepEqual(
      (await c.query('SELECT DISTINCT seat_type FROM seats ORDER BY 1')).rows.map((r) => r.seat_type),
      ['premium', 'standard', 'vip'],
    );
    t.is(await one(c, `SELECT count(*) FROM users WHERE hashed_password NOT LIKE '$2b$10$%'`), 0, 'bcrypt hashes, old format');
  });
});

test('a database whose legacy tables hold rows is refused without --truncate, and left alone', async (t) => {
  const before = await withClient(a, (c) => one(c, 'SELECT count(*) FROM bookings'));
  const run = await seed(a.url, ['--users', '5', '--movies', '1', '--bookings', '5']);
  t.is(run.code, 1);
  t.regex(run.stderr, /already hold rows \(users, .*bookings.*\); pass --truncate/);
  t.is(await withClient(a, (c) => one(c, 'SELECT count(*) FROM bookings')), before);
});

test('bad option values are rejected with exit code 2, naming the option', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--users', '0'], /--users must be a whole number/],
    [['--bookings', 'lots'], /--bookings must be a whole number/],
    [['--seed', '-1'], /--seed must be a whole number/],
    [['--batch-size', '10'], /--batch-size must be a whole number from 100/],
    [['--epoch', '2026-02-30'], /--epoch must be a day as YYYY-MM-DD/],
    [['--theaters', '1', '--bookings', '100000'], /--theaters 1 gives 140 showtimes with room for \d+ bookings.*use --theaters \d+ or more/],
  ];
  const runs = await Promise.all(cases.map(([args]) => seed(a.url, args)));
  cases.forEach(([args, message], i) => {
    t.is(runs[i]!.code, 2, args.join(' '));
    t.regex(runs[i]!.stderr, message);
  });
});

test('a seeded user signs in over HTTP with the documented password, and the hash is upgraded to argon2', async (t) => {
  const hint = /sign in as (\S+) with password (\S+)/.exec(first.stdout);
  t.truthy(hint, first.stdout);
  const [, email, password] = hint!;
  const app = await startTestApp({ db: a });
  try {
    const hashOf = () => withClient(a, async (c) => (await c.query('SELECT hashed_password FROM users WHERE email = $1', [email])).rows[0]?.hashed_password as string);
    t.regex(await hashOf(), /^\$2b\$10\$/);
    const wrong = await api(app.url, 'POST', '/api/v1/auth/login', { body: { email, password: `${password}x` } });
    t.is(wrong.status, 401);
    const login = await api(app.url, 'POST', '/api/v1/auth/login', { body: { email, password } });
    t.is(login.status, 200, JSON.stringify(login.body));
    t.is(login.body.token_type, 'bearer');
    t.truthy(login.body.access_token);
    t.regex(await hashOf(), /^\$argon2/);
  } finally {
    await app.stop();
  }
});
