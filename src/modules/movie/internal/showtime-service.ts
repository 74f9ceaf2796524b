import { randomUUID } from 'node:crypto';
import type { Db, Knex } from '../../../platform/db.ts';
import { transactionWithRetry } from '../../../platform/db-retry.ts';
import { ValidationError } from '../../../platform/errors.ts';
import { buildEnvelope, type Envelope } from '../../../platform/events/envelope.ts';
import { appendToOutbox } from '../../../platform/events/outbox.ts';
import type { CatalogCache } from './catalog-cache.ts';
import type { PagedView } from './catalog-service.ts';
import { ShowtimeCancelledError, ShowtimeNotFoundError, ShowtimeOverlapError } from './errors.ts';
import { showtimeCancelledV1, showtimeCreatedV1, showtimeUpdatedV1 } from './events.ts';
import type { CreateShowtimeInput, ListShowtimesQuery, UpdateShowtimeInput } from './schemas.ts';
import type { CatalogStore } from './catalog-store.ts';
import type { ShowtimeRecord } from './types.ts';
import { priceOf, toShowtimeView, toSnapshot, type PricedSeat, type SeatMapEntry, type ShowtimeSnapshot, type ShowtimeView } from './views.ts';

export interface ShowtimeServiceDeps {
  db: Knex;
  store: CatalogStore;
  cache: CatalogCache;
  /** the schema of the movie outbox (events are written there whichever store holds the catalog) */
  outboxSchema: string;
  defaultCurrency: string;
}

const SOURCE = 'movie';
const DAY_MS = 86_400_000;

/**
 * Showtimes: scheduling (with its events, in the write's transaction), reads, the seat map, booking's view.
 * Write transactions run again on a deadlock: while processes disagree about the write primary, one
 * writing legacy-first and one own-first can lock the two copies of a showtime in opposite order (ADR 0050).
 */
export class ShowtimeService {
  private readonly d: ShowtimeServiceDeps;

  constructor(deps: ShowtimeServiceDeps) {
    this.d = deps;
  }

  private emit(trx: Db, envelope: Envelope<Record<string, unknown>>): Promise<void> {
    return appendToOutbox(trx, this.d.outboxSchema, envelope);
  }

  private async assertFree(trx: Db, theaterId: string, start: Date, end: Date, excludeId?: string): Promise<void> {
    const overlapping = await this.d.store.overlappingShowtimes(trx, theaterId, start, end, excludeId);
    if (overlapping.length > 0) throw new ShowtimeOverlapError(overlapping);
  }

  async create(input: CreateShowtimeInput): Promise<ShowtimeView> {
    const { store } = this.d;
    const created = await transactionWithRetry(this.d.db, async (trx) => {
      const movie = await store.findMovie(trx, input.movie_id);
      const theater = await store.lockTheater(trx, input.theater_id);
      const problems = [
        ...(movie ? [] : [{ field: 'movie_id', message: 'no movie with this id' }]),
        ...(theater ? [] : [{ field: 'theater_id', message: 'no theater with this id' }]),
      ];
      if (!movie || !theater) throw new ValidationError(problems);
      const end = input.end_time ?? new Date(input.start_time.getTime() + movie.durationMinutes * 60_000);
      await this.assertFree(trx, theater.id, input.start_time, end);
      const seats = await store.listSeats(trx, theater.id);
      const showtime = await store.insertShowtime(trx, {
        id: randomUUID(),
        movieId: movie.id,
        theaterId: theater.id,
        startTime: input.start_time,
        endTime: end,
        basePrice: input.base_price,
        currency: input.currency ?? this.d.defaultCurrency,
        tierPrices: input.tier_prices ?? {},
        totalSeats: seats.length,
      });
      await this.emit(trx, buildEnvelope(showtimeCreatedV1, {
        showtime_id: showtime.id, movie_id: movie.id, theater_id: theater.id, start_time: showtime.startTime.toISOString(),
        end_time: showtime.endTime.toISOString(), price: showtime.basePrice, currency: showtime.currency, total_seats: showtime.totalSeats,
      }, { source: SOURCE }));
      return showtime;
    });
    await this.d.cache.invalidate();
    return toShowtimeView(created);
  }

  async update(id: string, input: UpdateShowtimeInput): Promise<ShowtimeView> {
    const updated = await transactionWithRetry(this.d.db, async (trx) => {
      const before = await this.d.store.findShowtime(trx, id);
      if (!before) throw new ShowtimeNotFoundError();
      if (before.status === 'cancelled') throw new ShowtimeCancelledError();
      await this.d.store.lockTheater(trx, before.theaterId);
      const start = input.start_time ?? before.startTime;
      const end = input.end_time ?? new Date(start.getTime() + (before.endTime.getTime() - before.startTime.getTime()));
      if (end <= start) throw new ValidationError([{ field: 'end_time', message: 'must be after start_time' }]);
      if (start.getTime() !== before.startTime.getTime() || end.getTime() !== before.endTime.getTime()) {
        await this.assertFree(trx, before.theaterId, start, end, id);
      }
      const after = (await this.d.store.updateShowtime(trx, id, {
        startTime: start,
        endTime: end,
        ...(input.base_price !== undefined ? { basePrice: input.base_price } : {}),
        ...(input.tier_prices !== undefined ? { tierPrices: input.tier_prices } : {}),
      }))!;
      const changes = diff(toShowtimeView(before), toShowtimeView(after), ['start_time', 'end_time', 'base_price', 'tier_prices']);
      if (Object.keys(changes).length > 0) {
        await this.emit(trx, buildEnvelope(showtimeUpdatedV1, { showtime_id: id, changes }, { source: SOURCE }));
      }
      return after;
    });
    await this.d.cache.invalidate();
    return toShowtimeView(updated);
  }

  /** Idempotent: cancelling a cancelled showtime answers its state and announces nothing. */
  async cancel(id: string, reason: string): Promise<ShowtimeView> {
    const cancelled = await transactionWithRetry(this.d.db, async (trx) => {
      const before = await this.d.store.findShowtime(trx, id);
      if (!before) throw new ShowtimeNotFoundError();
      const after = await this.d.store.cancelShowtime(trx, id, reason);
      if (!after) return before;
      const affected = await this.d.store.affectedBookings(trx, id);
      await this.emit(trx, buildEnvelope(showtimeCancelledV1, { showtime_id: id, reason, affected_bookings: affected }, { source: SOURCE }));
      return after;
    });
    await this.d.cache.invalidate();
    return toShowtimeView(cancelled);
  }

  async get(id: string): Promise<ShowtimeView> {
    const view = await this.d.cache.get(JSON.stringify({ showtime: id }), async () => {
      const s = await this.d.store.findShowtime(this.d.db, id);
      return s ? toShowtimeView(s) : undefined;
    });
    if (!view) throw new ShowtimeNotFoundError();
    return view;
  }

  list(q: ListShowtimesQuery): Promise<PagedView<ShowtimeView>> {
    // without a day: from now on (to the minute, so the cache key holds for a minute)
    const from = q.date ? new Date(`${q.date}T00:00:00Z`) : new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const to = q.date ? new Date(from!.getTime() + DAY_MS) : undefined;
    const filter = { movieId: q.movie_id, theaterId: q.theater_id, from, to, includeCancelled: q.include_cancelled };
    const page = { limit: q.limit, offset: q.offset };
    return this.d.cache.get(JSON.stringify({ showtimes: filter, page }), async () => {
      const { items, total } = await this.d.store.listShowtimes(this.d.db, filter, page);
      return { items: items.map(toShowtimeView), total, ...page };
    });
  }

  /** booking's view of a showtime (cached) */
  snapshot(id: string): Promise<ShowtimeSnapshot | undefined> {
    return this.d.cache.get(JSON.stringify({ snapshot: id }), async () => {
      const s = await this.d.store.findShowtime(this.d.db, id);
      if (!s) return undefined;
      const [movie, theater] = await Promise.all([this.d.store.findMovie(this.d.db, s.movieId), this.d.store.findTheater(this.d.db, s.theaterId)]);
      return movie && theater ? toSnapshot(s, movie, theater) : undefined;
    });
  }

  /** the showtime's seats with their prices (cached) */
  layout(id: string): Promise<PricedSeat[] | undefined> {
    return this.d.cache.get(JSON.stringify({ layout: id }), async () => {
      const s = await this.d.store.findShowtime(this.d.db, id);
      return s ? this.priced(this.d.db, s) : undefined;
    });
  }

  private async priced(db: Db, s: ShowtimeRecord): Promise<PricedSeat[]> {
    const seats = await this.d.store.listSeats(db, s.theaterId);
    return seats.map((seat) => ({ seat_id: seat.id, row: seat.row, number: seat.number, type: seat.type, price: priceOf(s, seat) }));
  }

  /** Every seat with its live state (never cached: it changes with every booking). */
  async seatMap(id: string): Promise<SeatMapEntry[]> {
    const layout = await this.layout(id);
    if (!layout) throw new ShowtimeNotFoundError();
    const states = await this.d.store.seatStates(this.d.db, id);
    return layout.map((seat) => ({ ...seat, status: states.get(seat.seat_id)?.status ?? 'available' }));
  }
}

function diff<T extends object>(before: T, after: T, keys: (keyof T)[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (JSON.stringify(before[k]) !== JSON.stringify(after[k])) out[String(k)] = after[k];
  return out;
}
