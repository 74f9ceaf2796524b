import type { Db } from '../../../platform/db.ts';
import { normalizeMoney } from '../../../platform/money.ts';
import type { ShowtimeSnapshot } from '../../movie/index.ts';
import { callCreatePending, createPendingStatement } from './create-pending.ts';
import { countPending } from './pending-caps.ts';
import { SeatsTakenError } from './errors.ts';
import { ACTIVE_STATUSES, type BookedSeat, type BookingRecord, type BookingStatus, type BookingStore } from './types.ts';

interface BookingRow {
  id: string; user_id: string; user_email: string; showtime_id: string; showtime_snapshot: ShowtimeSnapshot; status: BookingStatus;
  total_price: string; currency: string; expires_at: Date | null; cancel_reason: string | null; created_at: Date; updated_at: Date;
}
interface SeatRow { booking_id: string; seat_id: string; seat_snapshot: { row: string; number: number; type: string }; price: string }

/**
 * bookings.bookings / booking_seats. The invariant is the partial unique index
 * booking_seats (showtime_id, seat_id) WHERE active: seats go in with INSERT … ON CONFLICT DO NOTHING in
 * seat-id order (one order for everyone, so concurrent inserts queue instead of deadlocking), and a seat
 * that did not go in is held by someone else — the whole transaction is then refused with those seats.
 * A new booking with its caps, saga row and event is one call of the schema's create_pending_booking
 * function (migrations/bookings/0004, ADR 0072): one round trip, in a transaction of its own when given the pool.
 */
export function createOwnBookingStore(schema = 'bookings'): BookingStore {
  const t = (db: Db, table: string) => db.withSchema(schema).table(table);
  const createPending = createPendingStatement(`"${schema}".create_pending_booking`);

  async function hydrate(db: Db, rows: BookingRow[]): Promise<BookingRecord[]> {
    if (rows.length === 0) return [];
    const seats = (await t(db, 'booking_seats').whereIn('booking_id', rows.map((r) => r.id)).orderBy('seat_id')
      .select('booking_id', 'seat_id', 'seat_snapshot', 'price')) as SeatRow[];
    const seatsOf = new Map<string, BookedSeat[]>();
    for (const s of seats) {
      seatsOf.set(s.booking_id, [
        ...(seatsOf.get(s.booking_id) ?? []),
        { seatId: s.seat_id, row: s.seat_snapshot.row, number: s.seat_snapshot.number, type: s.seat_snapshot.type, price: normalizeMoney(s.price) },
      ]);
    }
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      userEmail: r.user_email,
      showtimeId: r.showtime_id,
      snapshot: r.showtime_snapshot,
      status: r.status,
      totalPrice: normalizeMoney(r.total_price),
      currency: r.currency.trim(),
      expiresAt: r.expires_at,
      cancelReason: r.cancel_reason,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      seats: seatsOf.get(r.id) ?? [],
    }));
  }

  return {
    createPending: (db, b, write) => callCreatePending(db, createPending, b, write),
    async insertPending(trx, b) {
      const seats = [...b.seats].sort((x, y) => (x.seatId < y.seatId ? -1 : 1));
      // the booking and its seats in one statement (one round trip on the hot path)
      const booking = t(trx, 'bookings').insert({
        id: b.id, user_id: b.userId, user_email: b.userEmail, showtime_id: b.showtimeId, showtime_snapshot: JSON.stringify(b.snapshot),
        status: 'pending', total_price: b.totalPrice, currency: b.currency, expires_at: b.expiresAt, created_at: b.createdAt, updated_at: b.createdAt,
      }).toSQL();
      const { rows } = (await trx.raw(
        `WITH booking AS (${booking.sql})
         INSERT INTO "${schema}".booking_seats (booking_id, showtime_id, seat_id, seat_snapshot, price, created_at)
         SELECT ?::uuid, ?::uuid, x.seat_id, x.snap, x.price, ? FROM jsonb_to_recordset(?::jsonb) AS x(seat_id uuid, snap jsonb, price numeric, ord int)
         ORDER BY x.ord
         ON CONFLICT (showtime_id, seat_id) WHERE active DO NOTHING
         RETURNING seat_id`,
        [...booking.bindings, b.id, b.showtimeId, b.createdAt, JSON.stringify(seats.map((s, ord) => ({ seat_id: s.seatId, snap: { row: s.row, number: s.number, type: s.type }, price: s.price, ord })))],
      )) as { rows: { seat_id: string }[] };
      if (rows.length < seats.length) {
        const inserted = new Set(rows.map((r) => r.seat_id));
        throw new SeatsTakenError(seats.map((s) => s.seatId).filter((id) => !inserted.has(id)));
      }
      return { ...b, status: 'pending', cancelReason: null, updatedAt: b.createdAt };
    },
    async findById(db, id) {
      const row = (await t(db, 'bookings').where({ id }).first()) as BookingRow | undefined;
      return row ? (await hydrate(db, [row]))[0] : undefined;
    },
    async lockById(trx, id) {
      const row = (await t(trx, 'bookings').where({ id }).forUpdate().first()) as BookingRow | undefined;
      return row ? (await hydrate(trx, [row]))[0] : undefined;
    },
    async listByUser(db, userId, page) {
      const [{ n }] = (await t(db, 'bookings').where({ user_id: userId }).count({ n: '*' })) as [{ n: string }];
      const rows = (await t(db, 'bookings').where({ user_id: userId }).orderBy('created_at', 'desc').orderBy('id')
        .limit(page.limit).offset(page.offset)) as BookingRow[];
      return { items: await hydrate(db, rows), total: Number(n) };
    },
    async confirm(trx, id) {
      return (await t(trx, 'bookings').where({ id, status: 'pending' }).update({ status: 'confirmed', updated_at: new Date() })) > 0;
    },
    async finish(trx, id, to, reason) {
      const n = await t(trx, 'bookings').where({ id }).whereIn('status', ACTIVE_STATUSES)
        .update({ status: to, cancel_reason: reason, updated_at: new Date() });
      if (n) await t(trx, 'booking_seats').where({ booking_id: id, active: true }).update({ active: false });
    },
    async claimExpired(trx, now, limit) {
      const rows = (await t(trx, 'bookings').where({ status: 'pending' }).where('expires_at', '<=', now)
        .orderBy('expires_at').limit(limit).forUpdate().skipLocked().select('id')) as { id: string }[];
      return rows.map((r) => r.id);
    },
    async activeSeats(db, showtimeId) {
      const rows = (await t(db, 'booking_seats').where({ showtime_id: showtimeId, active: true }).orderBy(['seat_id', 'booking_id'])
        .select('seat_id', 'booking_id')) as {
        seat_id: string; booking_id: string;
      }[];
      return rows.map((r) => ({ seatId: r.seat_id, bookingId: r.booking_id }));
    },
    pendingOf: (db, userId, showtimeId, now) => countPending(db, schema, userId, showtimeId, now),
  };
}
