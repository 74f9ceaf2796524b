import type { PlanSlice } from './booking-plan.ts';
import {
  bookingCtes, movieColumns, seatTypeSql, showtimeCount, showtimeCtes, theaterCte, theaterNaming, userCtes,
  type SeedShape,
} from './legacy-model.ts';
import { dayLiteral, idOf, intArray, md5Of, pick, rnd, seconds, uuidFromHex } from './sql-hash.ts';
import { PAYMENT_METHODS } from './word-lists.ts';

/**
 * One INSERT … SELECT per table and batch. Each takes index bounds (inclusive) and selects from the CTEs
 * of legacy-model.ts: the rows are generated inside Postgres and never pass through Node.
 */
export interface Statements {
  users(lo: number, hi: number): string;
  movies(lo: number, hi: number): string;
  theaters(lo: number, hi: number): string;
  seats(lo: number, hi: number): string;
  showtimes(slice: PlanSlice): string;
  bookings(slice: PlanSlice): string;
  bookingSeats(slice: PlanSlice): string;
  payments(slice: PlanSlice): string;
  welcomeNotifications(lo: number, hi: number): string;
  bookingNotifications(slice: PlanSlice): string;
  /** capacity (4-seat blocks) and demand weight of every showtime, in index order */
  showtimeDemand(): string;
}

export function legacyStatements(shape: SeedShape, schema: string, passwordHashes: readonly string[]): Statements {
  const { seed } = shape;
  const t = (name: string) => `"${schema}".${name}`;
  const epoch = dayLiteral(shape.epoch);
  const planCtes = (slice: PlanSlice) => `
    p AS MATERIALIZED (
      SELECT * FROM unnest(${intArray(slice.s)}, ${intArray(slice.cum, 'bigint')}, ${intArray(slice.q)}) AS p(s, cum, q)),
    ${showtimeCtes(shape, 'p')},
    ${bookingCtes(shape, slice.lo, slice.hi)}`;
  const money = (v: string) => `to_char(${v}, 'FM999,999,999') || ' VND'`;

  return {
    users: (lo, hi) => `WITH ${userCtes(shape, lo + 1, hi + 1)}
      INSERT INTO ${t('users')} (id, email, full_name, hashed_password, role, is_active, created_at, updated_at)
      SELECT uid, lower(fn || '.' || ln || i || '@' || dom), ln || ' ' || mid || ' ' || fn, ${pick(passwordHashes, 'i')},
        CASE WHEN i % 5000 = 0 THEN 'admin' ELSE 'user' END, i = 1 OR ${rnd('h', 2)} / 16 % 1000 >= 15,
        created_at, created_at
      FROM u`,

    movies: (lo, hi) => {
      const c = movieColumns('h');
      return `WITH
        m0 AS MATERIALIZED (
          SELECT m, ${md5Of(seed, 'movie', 'm')} AS h, ${idOf(seed, 'movie', 'm')} AS mid FROM generate_series(${lo}, ${hi}) AS m),
        m1 AS MATERIALIZED (
          SELECT m0.*, md5(h) AS h2, (${epoch} - interval '21 days' - (${rnd('md5(h)', 0)} % 700) * interval '1 day')::date AS release_date
          FROM m0)
      INSERT INTO ${t('movies')} (id, title, description, duration_minutes, genre, rating, release_date, poster_url, created_at, updated_at)
      SELECT mid, ${c.title}, ${c.description}, ${c.duration}, ${c.genre}, ${c.rating}, release_date,
        'https://cdn.boxoffice.example/posters/' || substr(h2, 9, 16) || '.jpg',
        release_date - interval '45 days' + ${seconds(`${rnd('h2', 1)} % 86400`)},
        release_date - interval '45 days' + ${seconds(`${rnd('h2', 1)} % 86400`)}
      FROM m1`;
    },

    theaters: (lo, hi) => `WITH ${theaterCte(shape, lo, hi)}
      INSERT INTO ${t('theaters')} (id, name, location, total_seats, created_at)
      SELECT tid, name, location, nrows * per_row, created_at FROM th`,

    seats: (lo, hi) => `WITH ${theaterCte(shape, lo, hi)}
      INSERT INTO ${t('seats')} (id, theater_id, row_label, seat_number, seat_type)
      SELECT ${idOf(seed, 'seat', `t || '.' || o`)}, tid, chr(65 + o / per_row), o % per_row + 1, ${seatTypeSql('o / per_row', 'nrows')}
      FROM th CROSS JOIN LATERAL generate_series(0, nrows * per_row - 1) AS o`,

    // available_seats = seats − seats held by the showtime's pending/confirmed bookings, computed from the
    // same model the bookings are generated from (so no UPDATE pass over 1M bookings is needed)
    showtimes: (slice) => `WITH ${planCtes(slice)},
      held AS (SELECT s, sum(n) AS n FROM bk WHERE status IN ('pending', 'confirmed') GROUP BY s)
      INSERT INTO ${t('showtimes')} (id, movie_id, theater_id, start_time, end_time, price, available_seats, created_at)
      SELECT sid, mid, tid, start_time, start_time + duration * interval '1 minute', price,
        nrows * per_row - coalesce(held.n, 0), created_at
      FROM st LEFT JOIN held USING (s)`,

    bookings: (slice) => `WITH ${planCtes(slice)}
      INSERT INTO ${t('bookings')} (id, user_id, showtime_id, status, total_price, expires_at, created_at, updated_at)
      SELECT bid, uid, sid, status, total, expires_at, created_at, updated_at FROM bk`,

    bookingSeats: (slice) => `WITH ${planCtes(slice)}
      INSERT INTO ${t('booking_seats')} (id, booking_id, seat_id, showtime_id, created_at)
      SELECT ${idOf(seed, 'booking_seat', `b || '.' || i`)}, bid, ${idOf(seed, 'seat', `t || '.' || (seat0 + i)`)}, sid, created_at
      FROM bk CROSS JOIN LATERAL generate_series(0, n - 1) AS i`,

    // confirmed bookings were paid (completed); 60% of cancelled ones had been paid and were refunded
    payments: (slice) => `WITH ${planCtes(slice)}
      INSERT INTO ${t('payments')} (id, booking_id, user_id, amount, status, payment_method, transaction_id, idempotency_key, created_at, updated_at)
      SELECT ${idOf(seed, 'payment', 'b')}, bid, uid, total, CASE WHEN status = 'confirmed' THEN 'completed' ELSE 'refunded' END,
        ${pick(PAYMENT_METHODS, 'v2')}, 'txn_' || substr(md5(hb2), 1, 24),
        ${uuidFromHex(md5Of(seed, 'idempotency', 'b'))}::text,
        created_at + ${seconds('10 + v3 % 10')},
        CASE WHEN status = 'confirmed' THEN updated_at - interval '2 seconds' ELSE updated_at END
      FROM bk WHERE paid`,

    welcomeNotifications: (lo, hi) => `WITH ${userCtes(shape, lo + 1, hi + 1)}
      INSERT INTO ${t('notifications')} (id, user_id, type, subject, message, status, sent_at, created_at)
      SELECT ${idOf(seed, 'notification', `'w' || i`)}, uid, 'welcome', 'Welcome to Boxoffice',
        'Hi ' || fn || ', your Boxoffice account is ready. Pick a showtime and book your seats in a few taps.',
        'sent', created_at + interval '8 seconds', created_at + interval '5 seconds'
      FROM u`,

    bookingNotifications: (slice) => {
      const title = movieColumns('hm').title;
      const theater = theaterNaming(shape, 't').name;
      return `WITH ${planCtes(slice)},
        nb0 AS MATERIALIZED (
          SELECT bk.*, ${md5Of(seed, 'movie', 'm')} AS hm FROM bk WHERE status IN ('confirmed', 'cancelled')),
        nb AS MATERIALIZED (SELECT nb0.*, ${title} AS title, ${theater} AS theater FROM nb0),
        nm AS MATERIALIZED (
          SELECT nb.*, 'Your booking for ' || title || ' at ' || theater || ' on '
            || to_char(start_time, 'YYYY-MM-DD HH24:MI') AS what
          FROM nb)
      INSERT INTO ${t('notifications')} (id, user_id, type, subject, message, status, sent_at, created_at)
      SELECT ${idOf(seed, 'notification', `'b' || b`)}, uid,
        CASE WHEN status = 'confirmed' THEN 'booking_confirmed' ELSE 'booking_cancelled' END,
        CASE WHEN status = 'confirmed' THEN 'Booking confirmed: ' ELSE 'Booking cancelled: ' END || title,
        CASE WHEN status = 'confirmed'
          THEN what || ' is confirmed: ' || n || CASE WHEN n = 1 THEN ' seat' ELSE ' seats' END || ', total '
            || ${money('total')} || '. Booking reference ' || upper(substr(bid::text, 1, 8)) || '.'
          ELSE what || ' has been cancelled.'
            || CASE WHEN paid THEN ' A refund of ' || ${money('total')} || ' is on its way.' ELSE '' END END,
        CASE WHEN v3 / 16 % 100 < 97 THEN 'sent' ELSE 'failed' END,
        CASE WHEN v3 / 16 % 100 < 97 THEN updated_at + ${seconds('5 + v0 / 8 % 30')} END,
        updated_at + interval '3 seconds'
      FROM nm`;
    },

    showtimeDemand: () => `WITH
      src AS (SELECT s FROM generate_series(0, ${showtimeCount(shape) - 1}) AS s),
      ${showtimeCtes(shape, 'src')}
      SELECT coalesce(array_agg(cap ORDER BY s), '{}') AS caps, coalesce(array_agg(demand ORDER BY s), '{}') AS demands FROM st`,
  };
}
