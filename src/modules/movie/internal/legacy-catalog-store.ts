import { sqlState, type Db } from '../../../platform/db.ts';
import { normalizeMoney } from '../../../platform/money.ts';
import type { CatalogStore } from './catalog-store.ts';
import { DuplicateSeatError } from './errors.ts';
import { movieMethods } from './movie-methods.ts';
import { countRows } from './sql.ts';
import type { SeatRecord, SeatState, ShowtimeRecord, TheaterRecord } from './types.ts';

/**
 * The old shared tables: theaters.location is the city; a showtime's status is whether it has a
 * cancelled_at. currency, tier_prices and updated_at were added for the migration (legacy 0006): rows the
 * old system wrote have NULL there, which reads as the configured currency and no tier prices — the one
 * showtime price for every seat, as the old system charged.
 */
interface TheaterRow { id: string; name: string; location: string | null; total_seats: number; created_at: Date | null }
interface SeatRow { id: string; theater_id: string; row_label: string; seat_number: number; seat_type: string | null }
interface ShowtimeRow {
  id: string; movie_id: string; theater_id: string; start_time: Date; end_time: Date; price: string; currency: string | null;
  tier_prices: Record<string, string> | null; available_seats: number; total_seats: number; created_at: Date | null;
  cancelled_at: Date | null; cancel_reason: string | null;
}

const EPOCH = new Date(0);

const toTheater = (r: TheaterRow): TheaterRecord => ({
  id: r.id, name: r.name, city: r.location, totalSeats: r.total_seats, createdAt: r.created_at ?? EPOCH,
});
const toSeat = (r: SeatRow): SeatRecord => ({
  id: r.id, theaterId: r.theater_id, row: r.row_label, number: r.seat_number, type: r.seat_type ?? 'standard',
});

export function createLegacyCatalogStore(schema: string, currency: string): CatalogStore {
  const t = (db: Db, table: string) => db.withSchema(schema).table(table);
  const toShowtime = (r: ShowtimeRow): ShowtimeRecord => ({
    id: r.id,
    movieId: r.movie_id,
    theaterId: r.theater_id,
    startTime: r.start_time,
    endTime: r.end_time,
    basePrice: normalizeMoney(r.price),
    currency: r.currency?.trim() ?? currency,
    tierPrices: r.tier_prices ?? {},
    status: r.cancelled_at ? 'cancelled' : 'scheduled',
    cancelReason: r.cancel_reason,
    totalSeats: Number(r.total_seats),
    availableSeats: r.available_seats,
    createdAt: r.created_at ?? EPOCH,
  });
  const showtimeSelect = (db: Db) =>
    db
      .withSchema(schema)
      .from('showtimes as s')
      .join('theaters as th', 'th.id', 's.theater_id')
      .select('s.*', 'th.total_seats');
  const findShowtime = async (db: Db, id: string) => {
    const row = (await showtimeSelect(db).where('s.id', id).first()) as ShowtimeRow | undefined;
    return row ? toShowtime(row) : undefined;
  };

  const findTheater = async (db: Db, id: string, lock = false) => {
    const q = t(db, 'theaters').where({ id }).first();
    if (lock) q.forUpdate();
    const row = (await q) as TheaterRow | undefined;
    return row ? toTheater(row) : undefined;
  };

  return {
    ...movieMethods(schema),

    async insertTheater(db, th) {
      try {
        await t(db, 'theaters').insert({ id: th.id, name: th.name, location: th.city, total_seats: th.seats.length });
        if (th.seats.length) {
          await t(db, 'seats').insert(
            th.seats.map((s) => ({ id: s.id, theater_id: th.id, row_label: s.row, seat_number: s.number, seat_type: s.type })),
          );
        }
      } catch (err) {
        if (sqlState(err) === '23505') throw new DuplicateSeatError();
        throw err;
      }
      return (await findTheater(db, th.id))!;
    },
    async updateTheater(db, id, p) {
      const n = await t(db, 'theaters').where({ id }).update({
        ...(p.name !== undefined ? { name: p.name } : {}),
        ...(p.city !== undefined ? { location: p.city } : {}),
        updated_at: new Date(),
      });
      return n ? findTheater(db, id) : undefined;
    },
    findTheater: (db, id) => findTheater(db, id),
    lockTheater: (db, id) => findTheater(db, id, true),
    async findTheaterByName(db, name) {
      // the old system's rows may lack created_at: they read as the epoch, so they come first
      const row = (await t(db, 'theaters').where({ name }).orderByRaw('created_at NULLS FIRST, id').first()) as TheaterRow | undefined;
      return row ? toTheater(row) : undefined;
    },
    async listTheaters(db, f, page) {
      const q = t(db, 'theaters');
      if (f.city) q.whereRaw('lower(location) = lower(?)', [f.city]);
      const total = await countRows(q);
      const rows = (await q.clone().orderBy('name').orderBy('id').limit(page.limit).offset(page.offset)) as TheaterRow[];
      return { items: rows.map(toTheater), total };
    },
    async listSeats(db, theaterId) {
      const rows = (await t(db, 'seats')
        .where({ theater_id: theaterId })
        .orderByRaw('length(row_label), row_label, seat_number')) as SeatRow[];
      return rows.map(toSeat);
    },

    async insertShowtime(db, s) {
      // available_seats is the old booking service's counter of free seats; booking's legacy store keeps it
      await t(db, 'showtimes').insert({
        id: s.id, movie_id: s.movieId, theater_id: s.theaterId, start_time: s.startTime, end_time: s.endTime,
        price: s.basePrice, currency: s.currency, tier_prices: JSON.stringify(s.tierPrices), available_seats: s.totalSeats,
      });
      return (await findShowtime(db, s.id))!;
    },
    async updateShowtime(db, id, p) {
      const n = await t(db, 'showtimes').where({ id }).update({
        ...(p.startTime ? { start_time: p.startTime } : {}),
        ...(p.endTime ? { end_time: p.endTime } : {}),
        ...(p.basePrice !== undefined ? { price: p.basePrice } : {}),
        ...(p.tierPrices !== undefined ? { tier_prices: JSON.stringify(p.tierPrices) } : {}),
        updated_at: new Date(),
      });
      return n ? findShowtime(db, id) : undefined;
    },
    async cancelShowtime(db, id, reason) {
      const now = new Date();
      const n = await t(db, 'showtimes').where({ id }).whereNull('cancelled_at').update({ cancelled_at: now, cancel_reason: reason, updated_at: now });
      return n ? findShowtime(db, id) : undefined;
    },
    findShowtime,
    async listShowtimes(db, f, page) {
      const q = showtimeSelect(db);
      if (f.movieId) q.where('s.movie_id', f.movieId);
      if (f.theaterId) q.where('s.theater_id', f.theaterId);
      if (f.from) q.where('s.start_time', '>=', f.from);
      if (f.to) q.where('s.start_time', '<', f.to);
      if (!f.includeCancelled) q.whereNull('s.cancelled_at');
      const total = await countRows(q);
      const rows = (await q.orderBy('s.start_time').orderBy('s.id').limit(page.limit).offset(page.offset)) as ShowtimeRow[];
      return { items: rows.map(toShowtime), total };
    },
    async overlappingShowtimes(db, theaterId, start, end, excludeId) {
      const q = t(db, 'showtimes').where({ theater_id: theaterId }).whereNull('cancelled_at')
        .where('start_time', '<', end).where('end_time', '>', start).select('id');
      if (excludeId) q.whereNot('id', excludeId);
      return ((await q) as { id: string }[]).map((r) => r.id);
    },
    async seatStates(db, showtimeId) {
      const rows = (await db
        .withSchema(schema)
        .from('booking_seats as bs')
        .join('bookings as b', 'b.id', 'bs.booking_id')
        .where('bs.showtime_id', showtimeId)
        .whereIn('b.status', ['pending', 'confirmed'])
        .select('bs.seat_id', 'b.id as booking_id', 'b.status')) as { seat_id: string; booking_id: string; status: string }[];
      const states = new Map<string, SeatState>();
      for (const r of rows) {
        const status = r.status === 'confirmed' ? 'sold' : 'held';
        if (states.get(r.seat_id)?.status !== 'sold') states.set(r.seat_id, { status, bookingId: r.booking_id });
      }
      return states;
    },
    async affectedBookings(db, showtimeId) {
      const rows = (await t(db, 'bookings').where({ showtime_id: showtimeId }).whereIn('status', ['pending', 'confirmed']).select('id')) as { id: string }[];
      return rows.map((r) => r.id);
    },
  };
}
