import { sqlState, type Db, type Knex } from '../../../platform/db.ts';
import { normalizeMoney } from '../../../platform/money.ts';
import type { ShowtimeSnapshot } from '../../movie/index.ts';
import { countPending } from './pending-caps.ts';
import { LegacyReferenceError, SeatsTakenError, ShowtimeNotFoundError } from './errors.ts';
import { ACTIVE_STATUSES, type BookedSeat, type BookingRecord, type BookingStatus, type BookingStore } from './types.ts';

interface BookingRow {
  id: string; user_id: string; showtime_id: string; status: string | null; total_price: string;
  expires_at: Date | null; created_at: Date | null; updated_at: Date | null; email: string | null;
}
interface SnapshotRow {
  id: string; movie_id: string; title: string; theater_id: string; name: string; location: string | null;
  start_time: Date; end_time: Date; price: string; cancelled_at: Date | null;
}
interface SeatRow { booking_id: string; seat_id: string; row_label: string; seat_number: number; seat_type: string | null; price: string }

const EPOCH = new Date(0);

/**
 * The old shared bookings/booking_seats tables. They have no unique constraint (the old service relied on
 * its Redis showtime lock), so this store keeps the invariant itself: the legacy showtime row is locked
 * FOR UPDATE, then the requested seats are checked against every pending or confirmed booking, then
 * written — all in the caller's transaction, so concurrent bookings of one showtime serialize here
 * whichever Redis lock (or none) the caller took. Snapshots are rebuilt from the catalog tables on read;
 * every seat is priced at the showtime price (the old rule); the currency is the configured one.
 */
export function createLegacyBookingStore(schema: string, currency: string): BookingStore {
  const t = (db: Db, table: string) => db.withSchema(schema).table(table);

  async function hydrate(db: Db, rows: BookingRow[]): Promise<BookingRecord[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const showtimeIds = [...new Set(rows.map((r) => r.showtime_id))];
    const [snapshots, seats] = await Promise.all([
      db.withSchema(schema).from('showtimes as s').join('movies as m', 'm.id', 's.movie_id').join('theaters as th', 'th.id', 's.theater_id')
        .whereIn('s.id', showtimeIds)
        .select('s.id', 's.movie_id', 'm.title', 's.theater_id', 'th.name', 'th.location', 's.start_time', 's.end_time', 's.price', 's.cancelled_at') as Promise<SnapshotRow[]>,
      db.withSchema(schema).from('booking_seats as bs').join('seats as se', 'se.id', 'bs.seat_id').join('showtimes as s', 's.id', 'bs.showtime_id')
        .whereIn('bs.booking_id', ids)
        .select('bs.booking_id', 'bs.seat_id', 'se.row_label', 'se.seat_number', 'se.seat_type', 's.price')
        .orderBy('bs.seat_id') as Promise<SeatRow[]>,
    ]);
    const snapshotOf = new Map(snapshots.map((s) => [s.id, toSnapshot(s, currency)]));
    const seatsOf = new Map<string, BookedSeat[]>();
    for (const s of seats) {
      seatsOf.set(s.booking_id, [
        ...(seatsOf.get(s.booking_id) ?? []),
        { seatId: s.seat_id, row: s.row_label, number: s.seat_number, type: s.seat_type ?? 'standard', price: normalizeMoney(s.price) },
      ]);
    }
    return rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      userEmail: r.email ?? '',
      showtimeId: r.showtime_id,
      snapshot: snapshotOf.get(r.showtime_id)!,
      status: (r.status ?? 'pending') as BookingStatus,
      totalPrice: normalizeMoney(r.total_price),
      currency,
      expiresAt: r.expires_at,
      cancelReason: null,
      createdAt: r.created_at ?? EPOCH,
      updatedAt: r.updated_at ?? r.created_at ?? EPOCH,
      seats: seatsOf.get(r.id) ?? [],
    }));
  }

  const bookingSelect = (db: Db) =>
    db.withSchema(schema).from('bookings as b').leftJoin('users as u', 'u.id', 'b.user_id').select('b.*', 'u.email');

  return {
    kind: 'legacy',
    async insertPending(trx, b) {
      const showtime = await t(trx, 'showtimes').where({ id: b.showtimeId }).forUpdate().first('id');
      if (!showtime) throw new ShowtimeNotFoundError('the showtime is not in the legacy tables');
      const seatIds = b.seats.map((s) => s.seatId);
      const taken = (await trx.withSchema(schema).from('booking_seats as bs').join('bookings as bk', 'bk.id', 'bs.booking_id')
        .where('bs.showtime_id', b.showtimeId).whereIn('bs.seat_id', seatIds).whereIn('bk.status', ACTIVE_STATUSES)
        .distinct('bs.seat_id')) as { seat_id: string }[];
      if (taken.length > 0) throw new SeatsTakenError(taken.map((r) => r.seat_id));
      try {
        await t(trx, 'bookings').insert({
          id: b.id, user_id: b.userId, showtime_id: b.showtimeId, status: 'pending', total_price: b.totalPrice,
          expires_at: b.expiresAt, created_at: b.createdAt, updated_at: b.createdAt,
        });
        await t(trx, 'booking_seats').insert(seatIds.map((seatId) => ({ booking_id: b.id, seat_id: seatId, showtime_id: b.showtimeId, created_at: b.createdAt })));
      } catch (err) {
        if (sqlState(err) === '23503') throw new LegacyReferenceError('the user or a seat of this booking is not in the legacy tables');
        throw err;
      }
      await t(trx, 'showtimes').where({ id: b.showtimeId }).decrement('available_seats', seatIds.length);
      return { ...b, status: 'pending', cancelReason: null, updatedAt: b.createdAt };
    },
    async findById(db, id) {
      const row = (await bookingSelect(db).where('b.id', id).first()) as BookingRow | undefined;
      return row ? (await hydrate(db, [row]))[0] : undefined;
    },
    async lockById(trx, id) {
      const row = (await t(trx, 'bookings').where({ id }).forUpdate().first('id')) as { id: string } | undefined;
      return row ? this.findById(trx, id) : undefined;
    },
    async listByUser(db, userId, page) {
      const [{ n }] = (await t(db, 'bookings').where({ user_id: userId }).count({ n: '*' })) as [{ n: string }];
      const rows = (await bookingSelect(db).where('b.user_id', userId).orderBy('b.created_at', 'desc').orderBy('b.id')
        .limit(page.limit).offset(page.offset)) as BookingRow[];
      return { items: await hydrate(db, rows), total: Number(n) };
    },
    async confirm(trx, id) {
      // as the old payment service did: the row turns confirmed; available_seats already counted the hold
      return (await t(trx, 'bookings').where({ id, status: 'pending' }).update({ status: 'confirmed', updated_at: new Date() })) > 0;
    },
    async finish(trx, id, to) {
      const [row] = (await t(trx, 'bookings').where({ id }).whereIn('status', ACTIVE_STATUSES)
        .update({ status: to, updated_at: new Date() }).returning(['showtime_id'])) as { showtime_id: string }[];
      if (!row) return;
      const [{ n }] = (await t(trx, 'booking_seats').where({ booking_id: id }).count({ n: '*' })) as [{ n: string }];
      await t(trx, 'showtimes').where({ id: row.showtime_id }).increment('available_seats', Number(n));
    },
    async claimExpired(trx, now, limit) {
      const rows = (await t(trx, 'bookings').where({ status: 'pending' }).where('expires_at', '<=', now)
        .orderBy('expires_at').limit(limit).forUpdate().skipLocked().select('id')) as { id: string }[];
      return rows.map((r) => r.id);
    },
    async activeSeats(db, showtimeId) {
      const rows = (await db.withSchema(schema).from('booking_seats as bs').join('bookings as bk', 'bk.id', 'bs.booking_id')
        .where('bs.showtime_id', showtimeId).whereIn('bk.status', ACTIVE_STATUSES)
        .select('bs.seat_id', 'bk.id as booking_id')) as { seat_id: string; booking_id: string }[];
      return rows.map((r) => ({ seatId: r.seat_id, bookingId: r.booking_id }));
    },
    pendingOf: (db, userId, showtimeId, now) => countPending(db, schema, userId, showtimeId, now),
  };
}

function toSnapshot(s: SnapshotRow, currency: string): ShowtimeSnapshot {
  return {
    showtime_id: s.id,
    movie_id: s.movie_id,
    movie_title: s.title,
    theater_id: s.theater_id,
    theater_name: s.name,
    screen: /\bScreen\s+\S+$/i.exec(s.name)?.[0] ?? null,
    city: s.location,
    start_time: s.start_time.toISOString(),
    end_time: s.end_time.toISOString(),
    base_price: normalizeMoney(s.price),
    currency,
    status: s.cancelled_at ? 'cancelled' : 'scheduled',
  };
}
