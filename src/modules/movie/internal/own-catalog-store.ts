import { sqlState, type Db } from '../../../platform/db.ts';
import { normalizeMoney } from '../../../platform/money.ts';
import type { CatalogStore } from './catalog-store.ts';
import { DuplicateSeatError } from './errors.ts';
import { movieMethods } from './movie-methods.ts';
import { countRows } from './sql.ts';
import type { SeatRecord, SeatState, ShowtimeRecord, TheaterRecord } from './types.ts';

interface TheaterRow { id: string; name: string; city: string | null; total_seats: number; created_at: Date }
interface SeatRow { id: string; theater_id: string; row_label: string; seat_number: number; seat_type: string }
interface ShowtimeRow {
  id: string; movie_id: string; theater_id: string; start_time: Date; end_time: Date; base_price: string; currency: string;
  tier_prices: Record<string, string>; status: 'scheduled' | 'cancelled'; cancel_reason: string | null; total_seats: number;
  taken: string | number; created_at: Date;
}

const toTheater = (r: TheaterRow): TheaterRecord => ({ id: r.id, name: r.name, city: r.city, totalSeats: r.total_seats, createdAt: r.created_at });
const toSeat = (r: SeatRow): SeatRecord => ({ id: r.id, theaterId: r.theater_id, row: r.row_label, number: r.seat_number, type: r.seat_type });
const toShowtime = (r: ShowtimeRow): ShowtimeRecord => ({
  id: r.id, movieId: r.movie_id, theaterId: r.theater_id, startTime: r.start_time, endTime: r.end_time,
  basePrice: normalizeMoney(r.base_price), currency: r.currency.trim(), tierPrices: r.tier_prices, status: r.status,
  cancelReason: r.cancel_reason, totalSeats: r.total_seats, availableSeats: r.total_seats - Number(r.taken), createdAt: r.created_at,
});

/** A held seat whose hold ran out counts as available even before the booking.expired event arrives. */
const TAKEN = `(status = 'sold' OR (status = 'held' AND (reserved_until IS NULL OR reserved_until > now())))`;

/** The movie schema's own tables (timestamptz, exact prices, per-tier prices, seat_availability). */
export function createOwnCatalogStore(schema = 'movies'): CatalogStore {
  const t = (db: Db, table: string) => db.withSchema(schema).table(table);
  const showtimeSelect = (db: Db) =>
    db.withSchema(schema).from('showtimes as s').select(
      's.*',
      db.raw(`(SELECT count(*) FROM "${schema}".seat_availability sa WHERE sa.showtime_id = s.id AND ${TAKEN}) AS taken`),
    );

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
        await t(db, 'theaters').insert({ id: th.id, name: th.name, city: th.city, total_seats: th.seats.length });
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
        ...(p.city !== undefined ? { city: p.city } : {}),
        updated_at: new Date(),
      });
      return n ? findTheater(db, id) : undefined;
    },
    findTheater: (db, id) => findTheater(db, id),
    lockTheater: (db, id) => findTheater(db, id, true),
    async findTheaterByName(db, name) {
      const row = (await t(db, 'theaters').where({ name }).orderByRaw('created_at NULLS FIRST, id').first()) as TheaterRow | undefined;
      return row ? toTheater(row) : undefined;
    },
    async listTheaters(db, f, page) {
      const q = t(db, 'theaters');
      if (f.city) q.whereRaw('lower(city) = lower(?)', [f.city]);
      const total = await countRows(q);
      const rows = (await q.clone().orderBy('name').orderBy('id').limit(page.limit).offset(page.offset)) as TheaterRow[];
      return { items: rows.map(toTheater), total };
    },
    async listSeats(db, theaterId) {
      const rows = (await t(db, 'seats').where({ theater_id: theaterId }).orderByRaw('length(row_label), row_label, seat_number')) as SeatRow[];
      return rows.map(toSeat);
    },

    async insertShowtime(db, s) {
      await t(db, 'showtimes').insert({
        id: s.id, movie_id: s.movieId, theater_id: s.theaterId, start_time: s.startTime, end_time: s.endTime,
        base_price: s.basePrice, currency: s.currency, tier_prices: JSON.stringify(s.tierPrices), total_seats: s.totalSeats,
      });
      await db.raw(
        `INSERT INTO "${schema}".seat_availability (showtime_id, seat_id)
         SELECT ?, id FROM "${schema}".seats WHERE theater_id = ? ON CONFLICT DO NOTHING`,
        [s.id, s.theaterId],
      );
      return (await findShowtime(db, s.id))!;
    },
    async updateShowtime(db, id, p) {
      const n = await t(db, 'showtimes').where({ id }).update({
        ...(p.startTime ? { start_time: p.startTime } : {}),
        ...(p.endTime ? { end_time: p.endTime } : {}),
        ...(p.basePrice !== undefined ? { base_price: p.basePrice } : {}),
        ...(p.tierPrices !== undefined ? { tier_prices: JSON.stringify(p.tierPrices) } : {}),
        updated_at: new Date(),
      });
      return n ? findShowtime(db, id) : undefined;
    },
    async cancelShowtime(db, id, reason) {
      const n = await t(db, 'showtimes').where({ id, status: 'scheduled' }).update({ status: 'cancelled', cancel_reason: reason, updated_at: new Date() });
      return n ? findShowtime(db, id) : undefined;
    },
    findShowtime,
    async listShowtimes(db, f, page) {
      const q = showtimeSelect(db);
      if (f.movieId) q.where('s.movie_id', f.movieId);
      if (f.theaterId) q.where('s.theater_id', f.theaterId);
      if (f.from) q.where('s.start_time', '>=', f.from);
      if (f.to) q.where('s.start_time', '<', f.to);
      if (!f.includeCancelled) q.where('s.status', 'scheduled');
      const total = await countRows(q);
      const rows = (await q.orderBy('s.start_time').orderBy('s.id').limit(page.limit).offset(page.offset)) as ShowtimeRow[];
      return { items: rows.map(toShowtime), total };
    },
    async overlappingShowtimes(db, theaterId, start, end, excludeId) {
      const q = t(db, 'showtimes').where({ theater_id: theaterId, status: 'scheduled' })
        .where('start_time', '<', end).where('end_time', '>', start).select('id');
      if (excludeId) q.whereNot('id', excludeId);
      return ((await q) as { id: string }[]).map((r) => r.id);
    },
    async seatStates(db, showtimeId) {
      const rows = (await t(db, 'seat_availability').where({ showtime_id: showtimeId }).whereRaw(TAKEN)
        .select('seat_id', 'status', 'booking_id')) as { seat_id: string; status: 'held' | 'sold'; booking_id: string | null }[];
      return new Map<string, SeatState>(rows.map((r) => [r.seat_id, { status: r.status, bookingId: r.booking_id }]));
    },
    async affectedBookings(db, showtimeId) {
      const rows = (await t(db, 'seat_availability').where({ showtime_id: showtimeId }).whereRaw(TAKEN)
        .whereNotNull('booking_id').distinct('booking_id')) as { booking_id: string }[];
      return rows.map((r) => r.booking_id);
    },
  };
}
