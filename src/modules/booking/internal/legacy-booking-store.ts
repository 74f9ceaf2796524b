import { isTransaction, sqlState, type Db, type Knex } from '../../../platform/db.ts';
import { normalizeMoney } from '../../../platform/money.ts';
import type { ShowtimeSnapshot } from '../../movie/index.ts';
import { callCreatePending, createPendingStatement } from './create-pending.ts';
import { countPending } from './pending-caps.ts';
import { SeatsTakenError } from './errors.ts';
import { legacyBookingSql, type LegacyBookingSql } from './legacy-booking-sql.ts';
import { type BookedSeat, type BookingRecord, type BookingStatus, type BookingStore } from './types.ts';

interface BookingRow {
  id: string; user_id: string; user_email: string; showtime_id: string; showtime_snapshot: ShowtimeSnapshot | null; status: string;
  total_price: string; currency: string; expires_at: Date | null; cancel_reason: string | null; created_at: Date; updated_at: Date;
}
interface SeatRow { booking_id: string; seat_id: string; seat_snapshot: { row: string; number: number; type: string } | null; price: string | null }

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** the own schema's index that keeps a seat in one active booking (see insertPending) */
const OWN_ACTIVE_SEAT_INDEX = 'booking_seats_active_seat_key';

/** what the legacy store needs to keep the old free-seat counter after its transactions commit */
export interface SeatCounterOptions {
  /** the pool recounts run on (the booking module's), looked up when one runs */
  db: () => Knex;
  /** a recount that failed (the next booking or release of that showtime recounts it again) */
  onError?: (err: unknown, showtimeId: string) => void;
}

/**
 * The old shared bookings/booking_seats tables, with the columns legacy migration 0006 added so that
 * nothing the own store keeps is dropped here (email, currency, showtime and seat snapshots, seat prices,
 * cancel reason). Rows the old system wrote without them read as the old store showed them: the SQL for
 * that is shared with the booking mapping (legacy-booking-sql.ts).
 *
 * The tables have no unique constraint on a showtime's seats (the old service relied on its Redis
 * showtime lock), so this store keeps the invariant itself (ADR 0070): a transaction-scoped advisory lock
 * per requested seat of the showtime, taken in seat order, then the seats are checked against every
 * pending or confirmed booking, then written — all in the caller's transaction, whichever Redis lock (or
 * none) the caller took. A new booking does the same with its caps, saga row and event in one call of the
 * booking schema's create_pending_legacy_booking (migrations/bookings/0005, ADR 0079). Bookings of
 * disjoint seats never wait for each other; the old free-seat counter
 * (showtimes.available_seats) is recounted after commit in a short transaction of its own, so no booking
 * holds the showtime row until it commits.
 */
export function createLegacyBookingStore(schema: string, currency: string, counter: SeatCounterOptions): BookingStore {
  const sql = legacyBookingSql(schema, currency);
  const t = (db: Db, table: string) => db.withSchema(schema).table(table);
  const recount = createSeatCounter(sql, counter);
  const createPending = createPendingStatement('"bookings".create_pending_legacy_booking');

  const bookingSelect = (db: Db) =>
    db.withSchema(schema).from('bookings as t').select(
      't.id', 't.user_id', db.raw(`${sql.userEmail} AS user_email`), 't.showtime_id', db.raw(`${sql.showtimeSnapshot} AS showtime_snapshot`),
      db.raw(`${sql.status} AS status`), 't.total_price', db.raw(`${sql.currency} AS currency`), 't.expires_at', 't.cancel_reason',
      db.raw(`${sql.createdAt} AS created_at`), db.raw(`${sql.updatedAt} AS updated_at`),
    );

  async function hydrate(db: Db, rows: BookingRow[]): Promise<BookingRecord[]> {
    if (rows.length === 0) return [];
    const seats = (await db.withSchema(schema).from('booking_seats as c').whereIn('c.booking_id', rows.map((r) => r.id)).orderBy('c.seat_id')
      .select('c.booking_id', 'c.seat_id', db.raw(`${sql.seatSnapshot} AS seat_snapshot`), db.raw(`${sql.seatPrice} AS price`))) as SeatRow[];
    const seatsOf = new Map<string, BookedSeat[]>();
    for (const s of seats) {
      // an old seat row whose seat or showtime is gone from the catalog tables was never shown (the old
      // store joined them); reconciliation reports it, as the own schema cannot hold a seat without them
      if (!s.seat_snapshot || s.price === null) continue;
      const { row, number, type } = s.seat_snapshot;
      seatsOf.set(s.booking_id, [...(seatsOf.get(s.booking_id) ?? []), { seatId: s.seat_id, row, number, type, price: normalizeMoney(s.price) }]);
    }
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      userEmail: r.user_email,
      showtimeId: r.showtime_id,
      snapshot: r.showtime_snapshot as ShowtimeSnapshot,
      status: r.status as BookingStatus,
      totalPrice: normalizeMoney(r.total_price),
      currency: r.currency,
      expiresAt: r.expires_at,
      cancelReason: r.cancel_reason,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      seats: seatsOf.get(r.id) ?? [],
    }));
  }

  const store: BookingStore = {
    async createPending(db, b, write) {
      const created = await callCreatePending(db, createPending, b, write, (err) => ownIndexRefusal(err, b.seats.map((s) => s.seatId)));
      recount.afterCommit(db, b.showtimeId);
      return created;
    },
    async insertPending(trx, b) {
      // One lock per seat of the showtime until commit: every booking of a seat through this store takes
      // it, so the check below sees each one that committed before, and none can slip in between check and
      // insert; bookings of other seats pass. Seat order (one order for everyone) keeps two bookings of
      // overlapping seats from waiting on each other (a deadlock would be retried by the caller).
      const seatIds = b.seats.map((s) => s.seatId).sort();
      await trx.raw('SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM (SELECT k FROM unnest(?::text[]) AS k ORDER BY k) s',
        [seatIds.map((seat) => `boxoffice:legacy-booking-seat:${b.showtimeId}:${seat}`)]);
      const taken = (await trx.withSchema(schema).from('booking_seats as bs').join('bookings as bk', 'bk.id', 'bs.booking_id')
        .where('bs.showtime_id', b.showtimeId).whereIn('bs.seat_id', seatIds).whereRaw(sql.isActive('bk'))
        .distinct('bs.seat_id')) as { seat_id: string }[];
      if (taken.length > 0) throw new SeatsTakenError(taken.map((r) => r.seat_id));
      // the booking and its seats in one statement (one round trip on the hot path)
      const booking = t(trx, 'bookings').insert({
        id: b.id, user_id: b.userId, user_email: b.userEmail, showtime_id: b.showtimeId, showtime_snapshot: JSON.stringify(b.snapshot),
        status: 'pending', total_price: b.totalPrice, currency: b.currency, expires_at: b.expiresAt, created_at: b.createdAt, updated_at: b.createdAt,
      }).toSQL();
      const seats = t(trx, 'booking_seats').insert(b.seats.map((s) => ({
        booking_id: b.id, seat_id: s.seatId, showtime_id: b.showtimeId, seat_snapshot: JSON.stringify({ row: s.row, number: s.number, type: s.type }),
        price: s.price, created_at: b.createdAt,
      }))).toSQL();
      try {
        await trx.raw(`WITH booking AS (${booking.sql}) ${seats.sql}`, [...booking.bindings, ...seats.bindings]);
      } catch (err) {
        throw ownIndexRefusal(err, seatIds) ?? err;
      }
      recount.afterCommit(trx, b.showtimeId);
      return { ...b, status: 'pending', cancelReason: null, updatedAt: b.createdAt };
    },
    async findById(db, id) {
      const row = (await bookingSelect(db).where('t.id', id).first()) as BookingRow | undefined;
      return row ? (await hydrate(db, [row]))[0] : undefined;
    },
    async lockById(trx, id) {
      const row = (await bookingSelect(trx).where('t.id', id).forUpdate().first()) as BookingRow | undefined;
      return row ? (await hydrate(trx, [row]))[0] : undefined;
    },
    async listByUser(db, userId, page) {
      const [{ n }] = (await t(db, 'bookings').where({ user_id: userId }).count({ n: '*' })) as [{ n: string }];
      // ordered by the creation time it shows (an old row without one reads as the epoch), as the own store orders
      const rows = (await bookingSelect(db).where('t.user_id', userId).orderByRaw(`${sql.createdAt} DESC, t.id`)
        .limit(page.limit).offset(page.offset)) as BookingRow[];
      return { items: await hydrate(db, rows), total: Number(n) };
    },
    async confirm(trx, id) {
      // as the old payment service did: the row turns confirmed; available_seats already counts the hold
      return (await t(trx, 'bookings').where({ id }).whereRaw(`COALESCE(status, 'pending') = 'pending'`)
        .update({ status: 'confirmed', updated_at: new Date() })) > 0;
    },
    async finish(trx, id, to, reason) {
      const [row] = (await trx.withSchema(schema).table('bookings as t').where({ id }).whereRaw(sql.isActive('t'))
        .update({ status: to, cancel_reason: reason, updated_at: new Date() }).returning(['showtime_id'])) as { showtime_id: string }[];
      if (row) recount.afterCommit(trx, row.showtime_id);
    },
    async claimExpired(trx, now, limit) {
      // `status = 'pending'` (not NULL-aware like the other predicates): the sweeper's partial index covers exactly that
      const rows = (await t(trx, 'bookings').where({ status: 'pending' }).where('expires_at', '<=', now)
        .orderBy('expires_at').limit(limit).forUpdate().skipLocked().select('id')) as { id: string }[];
      return rows.map((r) => r.id);
    },
    async activeSeats(db, showtimeId) {
      const rows = (await db.withSchema(schema).from('booking_seats as bs').join('bookings as bk', 'bk.id', 'bs.booking_id')
        .where('bs.showtime_id', showtimeId).whereRaw(sql.isActive('bk'))
        .orderBy(['bs.seat_id', 'bk.id']).select('bs.seat_id', 'bk.id as booking_id')) as { seat_id: string; booking_id: string }[];
      return rows.map((r) => ({ seatId: r.seat_id, bookingId: r.booking_id }));
    },
    pendingOf: (db, userId, showtimeId, now) => countPending(db, schema, userId, showtimeId, now),
  };
  return store;
}

/**
 * While dual-write copies a legacy booking into the own schema in its transaction, that schema's index
 * refuses a seat an own-first writer holds (processes disagree about the write primary for a moment): the
 * seat named in the violation's detail (`Key (showtime_id, seat_id)=(…, <seat>) already exists.`) is taken.
 */
function ownIndexRefusal(err: unknown, seatIds: string[]): SeatsTakenError | undefined {
  if (sqlState(err) !== '23505' || (err as { constraint?: string }).constraint !== OWN_ACTIVE_SEAT_INDEX) return undefined;
  const seat = /=\([0-9a-f-]+, ([0-9a-f-]+)\)/i.exec((err as { detail?: string }).detail ?? '')?.[1];
  return new SeatsTakenError(seat ? [seat] : seatIds);
}

/**
 * The old free-seat counter (showtimes.available_seats, read by the old system), recounted after the
 * transaction that changed a showtime's bookings commits, instead of moved inside it: an UPDATE of the
 * showtime row in the booking's transaction would hold that row until commit and line up every booking of
 * the showtime behind it. A recount (not a delta) cannot drift: one that is missed (the process stops
 * between commit and recount, or the recount fails) is made good by the showtime's next one. At most one
 * recount per showtime runs at a time in this process; changes that commit meanwhile share the next one.
 */
function createSeatCounter(sql: LegacyBookingSql, options: SeatCounterOptions) {
  const running = new Map<string, { again: boolean }>();
  // Both statements in one simple query: one round trip, one implicit transaction, and (read committed)
  // a snapshot per statement, so the count still sees what committed while the lock was awaited. A simple
  // query takes no parameters: the id goes in as a literal, and only a UUID does.
  const recount = (showtimeId: string) => `${sql.recountAvailable(`'${showtimeId}'::uuid`).join(';\n')}`;

  async function loop(showtimeId: string, state: { again: boolean }): Promise<void> {
    try {
      do {
        state.again = false;
        try {
          await options.db().raw(recount(showtimeId));
        } catch (err) {
          options.onError?.(err, showtimeId);
        }
      } while (state.again);
    } finally {
      running.delete(showtimeId);
    }
  }

  /** a change to the showtime's bookings has committed */
  function committed(showtimeId: string): void {
    if (!UUID.test(showtimeId)) return;
    const state = running.get(showtimeId);
    if (state) {
      state.again = true;
      return;
    }
    const fresh = { again: false };
    running.set(showtimeId, fresh);
    void loop(showtimeId, fresh);
  }

  return {
    /** once `db`'s write is committed: at once on the pool, else when the (outermost) transaction commits */
    afterCommit(db: Db, showtimeId: string): void {
      if (!isTransaction(db)) return committed(showtimeId);
      let top = db;
      while (top.parentTransaction) top = top.parentTransaction;
      top.executionPromise.then(() => committed(showtimeId), () => undefined);
    },
  };
}
