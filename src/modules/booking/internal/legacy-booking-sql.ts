import { EPOCH_SQL } from '../../../platform/mapping/aggregate-mapping.ts';
import { ACTIVE_STATUSES } from './types.ts';

const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string): string => `'${text.replace(/'/g, "''")}'`;

/** JavaScript's `\s` (ECMAScript WhiteSpace and LineTerminator), spelled out so Postgres matches the same characters. */
const JS_SPACE = String.raw`\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff`;

/**
 * The screen in a theater's name, as `/\bScreen\s+\S+$/i.exec(name)?.[0]` finds it (what the legacy store
 * showed before it kept snapshots). Written without the `i` flag and with `\b` and `\s` spelled out, so
 * Postgres's locale-aware classes cannot match a character JavaScript would not (e.g. `ſ` for `s`).
 */
const screenOf = (name: string): string =>
  `(regexp_match(${name}, '(^|[^A-Za-z0-9_])([Ss][Cc][Rr][Ee][Ee][Nn][${JS_SPACE}]+[^${JS_SPACE}]+)$'))[2]`;

const ISO_MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/**
 * What a legacy booking row reads as, in SQL: the values of the columns legacy migration 0006 added
 * (user_email, currency, showtime_snapshot, cancel_reason; seat_snapshot, price), and, for rows the old
 * system wrote with NULL there, what the legacy store showed before it kept them — the snapshot rebuilt
 * from the catalog tables, the seat from `seats`, every seat at the showtime price, the configured
 * currency, the email from `users`. The legacy store selects these expressions and the booking mapping
 * declares them as its legacy `read`s, so an old booking reads the same through the store, through the
 * mapping's documents, and (once copied) through the own store. Row alias `t` (bookings), `c` (booking_seats).
 */
export function legacyBookingSql(schema: string, currency: string) {
  const table = (name: string) => `${ident(schema)}.${ident(name)}`;
  const showtimeSnapshot = `(SELECT jsonb_build_object(
      'showtime_id', s.id::text, 'movie_id', m.id::text, 'movie_title', m.title, 'theater_id', th.id::text,
      'theater_name', th.name, 'screen', ${screenOf('th.name')}, 'city', th.location,
      'start_time', to_char(s.start_time, ${ISO_MS}), 'end_time', to_char(s.end_time, ${ISO_MS}),
      'base_price', (s.price::numeric(16,2))::text, 'currency', ${literal(currency)},
      'status', CASE WHEN s.cancelled_at IS NULL THEN 'scheduled' ELSE 'cancelled' END)
    FROM ${table('showtimes')} s JOIN ${table('movies')} m ON m.id = s.movie_id JOIN ${table('theaters')} th ON th.id = s.theater_id
    WHERE s.id = t.showtime_id)`;
  const isActive = (alias: string) => `COALESCE(${alias}.status, 'pending') IN (${ACTIVE_STATUSES.map(literal).join(', ')})`;
  return {
    /** a legacy table, schema-qualified */
    table,
    userEmail: `COALESCE(t.user_email, (SELECT u.email FROM ${table('users')} u WHERE u.id = t.user_id), '')`,
    status: `COALESCE(t.status, 'pending')`,
    /**
     * whether the booking row `alias` holds its seats: pending (which an old row without a status reads
     * as) or confirmed — so such a row's seats are taken here as they are once copied to the own schema
     */
    isActive,
    /**
     * The old showtimes' free-seat counter set to what it counts (theater seats less the seats of pending or
     * confirmed bookings, as the old system kept it) for the showtimes `ids` (SQL for a set of uuids), in
     * two statements of one transaction: the rows are locked first, then counted by a later statement, which
     * sees what a concurrent writer committed while this one waited (a count taken before the lock would
     * lose that writer's seats). Showtimes the shared tables do not have are left alone.
     */
    recountAvailable: (ids: string): [string, string] => [
      `UPDATE ${table('showtimes')} s SET available_seats = s.available_seats WHERE s.id IN (${ids})`,
      `UPDATE ${table('showtimes')} s SET available_seats = n.available FROM (
         SELECT s2.id, th.total_seats - (SELECT count(*) FROM ${table('booking_seats')} bs JOIN ${table('bookings')} b ON b.id = bs.booking_id
                                         WHERE bs.showtime_id = s2.id AND ${isActive('b')}) AS available
           FROM ${table('showtimes')} s2 JOIN ${table('theaters')} th ON th.id = s2.theater_id
          WHERE s2.id IN (${ids})
       ) n WHERE s.id = n.id AND s.available_seats IS DISTINCT FROM n.available`,
    ],
    currency: `COALESCE(rtrim(t.currency), ${literal(currency)})`,
    showtimeSnapshot: `COALESCE(t.showtime_snapshot, ${showtimeSnapshot})`,
    createdAt: `COALESCE(t.created_at, ${EPOCH_SQL})`,
    updatedAt: `COALESCE(t.updated_at, t.created_at, ${EPOCH_SQL})`,
    seatSnapshot: `COALESCE(c.seat_snapshot, (SELECT jsonb_build_object('row', se.row_label, 'number', se.seat_number, 'type', COALESCE(se.seat_type, 'standard')) ` +
      `FROM ${table('seats')} se WHERE se.id = c.seat_id))`,
    seatPrice: `COALESCE(c.price, (SELECT s.price FROM ${table('showtimes')} s WHERE s.id = c.showtime_id))`,
    seatCreatedAt: `COALESCE(c.created_at, ${EPOCH_SQL})`,
  };
}

export type LegacyBookingSql = ReturnType<typeof legacyBookingSql>;
