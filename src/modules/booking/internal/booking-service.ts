import { randomUUID } from 'node:crypto';
import type { Principal } from '../../../platform/auth/principal.ts';
import type { Knex } from '../../../platform/db.ts';
import { transactionWithRetry } from '../../../platform/db-retry.ts';
import { buildEnvelope } from '../../../platform/events/envelope.ts';
import { appendToOutbox } from '../../../platform/events/outbox.ts';
import type { Flags } from '../../../platform/flags.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { Metrics } from '../../../platform/metrics.ts';
import { fitsEveryStore, MONEY_MAX, sumMoney } from '../../../platform/money.ts';
import type { MovieFacade, PricedSeat } from '../../movie/index.ts';
import {
  BookingNotCancellableError, BookingNotFoundError, BookingTotalTooLargeError, SeatsTakenError, ShowtimeBusyError, ShowtimeNotBookableError,
  ShowtimeNotFoundError, UnknownSeatsError,
} from './errors.ts';
import { bookingCancelledV1, bookingCreatedV1 } from './events.ts';
import { PendingLimitError, type PendingCaps } from './pending-caps.ts';
import type { SagaState } from './saga-state.ts';
import type { CreateBookingInput } from './schemas.ts';
import type { SeatHolds } from './seat-holds.ts';
import type { BookingRecord, BookingStore, NewBooking, Page } from './types.ts';
import { toBookingView, type BookingView } from './views.ts';

export interface BookingServiceDeps {
  db: Knex;
  store: BookingStore;
  saga: SagaState;
  holds: SeatHolds;
  caps: PendingCaps;
  movie: MovieFacade;
  flags: Flags;
  logger: Logger;
  metrics: Metrics;
  holdSeconds: number;
  showtimeLockMs: number;
}

export const SOURCE = 'booking';
export const OUTBOX_SCHEMA = 'bookings';

const isAdmin = (p: Principal) => p.roles.includes('admin');

/** Booking's HTTP-facing behaviour: create (hold seats), read, list, cancel. Expiry: booking-expiry.ts. */
export class BookingService {
  private readonly d: BookingServiceDeps;
  private readonly outcomes;

  constructor(deps: BookingServiceDeps) {
    this.d = deps;
    this.outcomes = deps.metrics.counter('booking_requests_total', 'Booking requests by lock strategy and outcome', ['strategy', 'outcome']);
  }

  /** Build the booking from movie's view of the showtime; nothing is locked yet. */
  private async prepare(principal: Principal, input: CreateBookingInput, now: Date): Promise<NewBooking> {
    // both reads at once: with movie in another process they are two round trips (the snapshot's answer
    // still decides first, so a showtime that does not exist is a 404 whatever the layout read did)
    const [snapshotRead, layoutRead] = await Promise.allSettled([this.d.movie.getShowtimeSnapshot(input.showtime_id), this.d.movie.getSeatLayout(input.showtime_id)]);
    if (snapshotRead.status === 'rejected') throw snapshotRead.reason;
    const snapshot = snapshotRead.value;
    if (!snapshot) throw new ShowtimeNotFoundError();
    if (snapshot.status === 'cancelled') throw new ShowtimeNotBookableError('cancelled');
    if (new Date(snapshot.start_time) <= now) throw new ShowtimeNotBookableError('started');
    if (layoutRead.status === 'rejected') throw layoutRead.reason;
    const bySeat = seatIndex(layoutRead.value ?? []);
    const unknown = input.seat_ids.filter((id) => !bySeat.has(id));
    if (unknown.length > 0) throw new UnknownSeatsError(unknown);
    const seats = [...input.seat_ids].sort().map((id) => {
      const s = bySeat.get(id)!;
      return { seatId: s.seat_id, row: s.row, number: s.number, type: s.type, price: s.price };
    });
    const totalPrice = sumMoney(seats.map((s) => s.price));
    if (!fitsEveryStore(totalPrice)) throw new BookingTotalTooLargeError(totalPrice, MONEY_MAX);
    return {
      id: randomUUID(),
      userId: principal.userId,
      userEmail: principal.email,
      showtimeId: snapshot.showtime_id,
      snapshot,
      totalPrice,
      currency: snapshot.currency,
      expiresAt: new Date(now.getTime() + this.d.holdSeconds * 1000),
      createdAt: now,
      seats,
    };
  }

  async create(principal: Principal, input: CreateBookingInput): Promise<BookingView> {
    const now = new Date();
    const booking = await this.prepare(principal, input, now);
    const seatIds = booking.seats.map((s) => s.seatId);
    const perSeat = this.d.flags.isEnabled('use_per_seat_locks');
    const strategy = perSeat ? 'seat' : 'showtime';
    const fast = perSeat
      ? await this.d.holds.holdSeats(booking.showtimeId, seatIds, booking.id, booking.expiresAt.getTime() - now.getTime() + 5_000)
      : await this.d.holds.lockShowtime(booking.showtimeId, booking.id, this.d.showtimeLockMs);
    if (!fast.ok) {
      this.outcomes.inc({ strategy, outcome: perSeat ? 'taken_in_redis' : 'showtime_busy' });
      throw perSeat ? new SeatsTakenError(fast.taken) : new ShowtimeBusyError(seatIds);
    }
    let committed = false;
    try {
      // caps, booking, seats, saga row and outbox event commit together (one statement on the own store)
      const record = await this.d.store.createPending(this.d.db, booking, {
        limits: this.d.caps.limits,
        now,
        event: buildEnvelope(bookingCreatedV1, createdPayload({ ...booking, status: 'pending', cancelReason: null, updatedAt: booking.createdAt }), { source: SOURCE }),
        onRetry: (err, attempt) => this.d.logger.info({ err, attempt }, 'booking transaction retried'),
      });
      committed = true;
      this.outcomes.inc({ strategy, outcome: 'created' });
      return toBookingView(record);
    } catch (err) {
      if (err instanceof SeatsTakenError) this.outcomes.inc({ strategy, outcome: 'taken_in_db' });
      if (err instanceof PendingLimitError) this.outcomes.inc({ strategy, outcome: 'pending_limit' });
      throw err;
    } finally {
      // per-seat holds of a created booking stay until it is cancelled or expires; the showtime lock never does
      if (perSeat && !committed) await this.d.holds.releaseSeats(booking.showtimeId, seatIds, booking.id);
      if (!perSeat) await this.d.holds.unlockShowtime(booking.showtimeId, booking.id);
    }
  }

  private visible(principal: Principal, b: BookingRecord | undefined): BookingRecord {
    if (!b || (b.userId !== principal.userId && !isAdmin(principal))) throw new BookingNotFoundError();
    return b;
  }

  async get(principal: Principal, id: string): Promise<BookingView> {
    return toBookingView(this.visible(principal, await this.d.store.findById(this.d.db, id)));
  }

  async list(principal: Principal, page: Page): Promise<{ items: BookingView[]; total: number; limit: number; offset: number }> {
    const { items, total } = await this.d.store.listByUser(this.d.db, principal.userId, page);
    return { items: items.map(toBookingView), total, ...page };
  }

  /** pending or confirmed (before the show) → cancelled; cancelling a cancelled booking is a no-op. */
  async cancel(principal: Principal, id: string, reason: string): Promise<BookingView> {
    const { booking, changed } = await transactionWithRetry(this.d.db, async (trx) => {
      const b = this.visible(principal, await this.d.store.lockById(trx, id));
      if (b.status === 'cancelled') return { booking: b, changed: false };
      if (b.status === 'expired') throw new BookingNotCancellableError('expired');
      if (b.status === 'confirmed' && new Date(b.snapshot.start_time) <= new Date()) throw new BookingNotCancellableError('confirmed for a show that has started');
      await this.d.store.finish(trx, id, 'cancelled', reason);
      await this.d.saga.advance(trx, id, 'cancelled', 'compensated', { action: 'release_seats', reason });
      const cancelledAt = new Date();
      await appendToOutbox(trx, OUTBOX_SCHEMA, buildEnvelope(bookingCancelledV1, {
        booking_id: id, user_id: b.userId, showtime_id: b.showtimeId, seat_ids: b.seats.map((s) => s.seatId), reason,
        cancelled_at: cancelledAt.toISOString(), refund_required: b.status === 'confirmed',
      }, { source: SOURCE }));
      return { booking: { ...b, status: 'cancelled' as const, cancelReason: reason, updatedAt: cancelledAt }, changed: true };
    });
    if (changed) await this.d.holds.releaseSeats(booking.showtimeId, booking.seats.map((s) => s.seatId), booking.id);
    return toBookingView(booking);
  }
}

/**
 * A layout's seats by id. The movie module hands out the same (frozen, cached) layout to every booking of
 * a showtime, so the index is built once per layout, not once per booking of its thousands of seats.
 */
const seatIndexes = new WeakMap<readonly PricedSeat[], Map<string, PricedSeat>>();
function seatIndex(layout: readonly PricedSeat[]): Map<string, PricedSeat> {
  let index = seatIndexes.get(layout);
  if (!index) {
    index = new Map(layout.map((s) => [s.seat_id, s]));
    seatIndexes.set(layout, index);
  }
  return index;
}

/** booking.created payload (seed 002 §8.4.3) */
export function createdPayload(b: BookingRecord) {
  const s = b.snapshot;
  return {
    booking_id: b.id,
    user_id: b.userId,
    user_email: b.userEmail,
    showtime_id: b.showtimeId,
    showtime_snapshot: {
      movie_id: s.movie_id, movie_title: s.movie_title, theater_id: s.theater_id, theater_name: s.theater_name, screen: s.screen,
      city: s.city, start_time: s.start_time, end_time: s.end_time, base_price: s.base_price, currency: s.currency,
    },
    seats: b.seats.map((x) => ({ seat_id: x.seatId, row: x.row, number: x.number, type: x.type, price: x.price })),
    total_price: b.totalPrice,
    currency: b.currency,
    status: 'pending' as const,
    expires_at: b.expiresAt!.toISOString(),
    created_at: b.createdAt.toISOString(),
  };
}
