import type { BoxofficeModule, EventHandler, PlatformDeps } from '../../platform/module.ts';
import type { MovieFacade } from '../movie/index.ts';
import { expireDue, createExpirySweeper } from './internal/booking-expiry.ts';
import { BookingService } from './internal/booking-service.ts';
import { createBookingInternalRoutes, createRemoteBookingReads } from './internal/facade-http.ts';
import type { InternalClient } from '../../platform/http/internal-client.ts';
import { createLegacyBookingStore } from './internal/legacy-booking-store.ts';
import { createOwnBookingStore } from './internal/own-booking-store.ts';
import { createPendingCaps } from './internal/pending-caps.ts';
import { createPaymentEventHandlers } from './internal/payment-event-handlers.ts';
import { BOOKING_STORE_METHODS } from './internal/types.ts';
import { createBookingRoutes } from './internal/routes.ts';
import { createSagaState } from './internal/saga-state.ts';
import { SeatHolds } from './internal/seat-holds.ts';
import type { BookingForPayment, BookingView } from './internal/views.ts';

export { createBookingMapping } from './internal/booking-mapping.ts';
export { bookingCancelledV1, bookingConfirmedV1, bookingCreatedV1, bookingExpiredV1 } from './internal/events.ts';
export type { BookingForPayment, BookingView };

/** What other modules may use of booking (state changes travel as booking.* events, and booking reacts to payment.*). */
export interface BookingFacade {
  /**
   * A booking as booking's own store has it, for a payment sent before booking.created reached payment's
   * snapshot (paying right after booking); undefined when there is none.
   */
  getBookingForPayment(bookingId: string): Promise<BookingForPayment | undefined>;
}

export interface BookingDeps extends PlatformDeps {
  /** in-process or remote (SERVICE_URL_MOVIE) */
  movie: MovieFacade;
}

/** Operator and test hooks, not for other modules. */
export interface BookingAdmin {
  /** expire due pending bookings now (what the sweeper does every BOOKING_SWEEP_INTERVAL_MS) */
  expireDue(now?: Date): Promise<number>;
  /** seat → booking of every seat held or sold in the showtime, from the side reads go to */
  activeSeats(showtimeId: string): Promise<{ seatId: string; bookingId: string }[]>;
  /** the Redis key of a seat hold / of the old showtime lock (for operators and tests) */
  seatHoldKey(showtimeId: string, seatId: string): string;
  showtimeLockKey(showtimeId: string): string;
}

export type BookingModule = BoxofficeModule<BookingFacade> & { admin: BookingAdmin };

const OUTBOX_SCHEMA = 'bookings';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createBookingModule(deps: BookingDeps): BookingModule {
  const { config, db, logger } = deps;
  const store = deps.stores.route({
    module: 'booking',
    name: 'bookings',
    legacy: createLegacyBookingStore(config.LEGACY_SCHEMA, config.DEFAULT_CURRENCY, {
      db: () => db, onError: (err, showtimeId) => logger.warn({ err, showtime_id: showtimeId }, 'old available_seats counter not recounted (the next booking of the showtime recounts it)'),
    }),
    own: createOwnBookingStore(OUTBOX_SCHEMA),
    methods: BOOKING_STORE_METHODS,
  });
  const stores = () => deps.stores.describe('booking');
  const saga = createSagaState(OUTBOX_SCHEMA);
  const holds = new SeatHolds({ redis: deps.redis, keyPrefix: config.REDIS_KEY_PREFIX, logger });
  const caps = createPendingCaps({ maxSeatsPerShowtime: config.BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME, maxBookings: config.BOOKING_MAX_PENDING_BOOKINGS });
  const service = new BookingService({
    db, store, saga, holds, caps, movie: deps.movie, flags: deps.flags, logger, metrics: deps.metrics,
    holdSeconds: config.BOOKING_HOLD_SECONDS, showtimeLockMs: config.BOOKING_SHOWTIME_LOCK_MS,
  });
  const expiry = { db, store, saga, holds, logger };
  // seat.* from movie: booking is the authority on holds, so these only confirm what it already knows
  const seatEcho: EventHandler = async (event) => {
    logger.debug({ event: event.event_type, booking_id: event.payload['booking_id'] }, 'seat event received');
  };
  const facade: BookingFacade = {
    async getBookingForPayment(bookingId) {
      if (!UUID.test(bookingId)) return undefined;
      const b = await store.findById(db, bookingId);
      return b && { bookingId: b.id, userId: b.userId, status: b.status, totalPrice: b.totalPrice, currency: b.currency, expiresAt: b.expiresAt };
    },
  };
  logger.info({ stores: stores() }, 'booking module ready');
  return {
    name: 'booking',
    facade,
    admin: {
      expireDue: (now) => expireDue(expiry, now),
      activeSeats: (showtimeId) => store.activeSeats(db, showtimeId),
      seatHoldKey: (showtimeId, seatId) => holds.seatKey(showtimeId, seatId),
      showtimeLockKey: (showtimeId) => holds.showtimeKey(showtimeId),
    },
    routes: [...createBookingRoutes({ service, authenticator: deps.authenticator, maxSeats: config.BOOKING_MAX_SEATS }), createBookingInternalRoutes(facade)],
    workers: [createExpirySweeper(expiry, config.BOOKING_SWEEP_INTERVAL_MS)],
    outbox: { schema: OUTBOX_SCHEMA },
    consumer: {
      queue: 'booking-service.events',
      bindings: ['payment.*', 'seat.*'],
      handlers: {
        ...createPaymentEventHandlers({ store, saga, holds, logger, stores }),
        'seat.reserved': seatEcho, 'seat.released': seatEcho, 'seat.confirmed': seatEcho,
      },
    },
    async start() {},
    async stop() {},
    async health() {
      await db.raw('select 1');
      return { status: 'ok', details: { stores: stores() } };
    },
  };
}

/** booking's facade for a process that does not host booking (SERVICE_URL_BOOKING): the same read over HTTP */
export function createRemoteBookingFacade(client: InternalClient): BookingFacade {
  return createRemoteBookingReads(client);
}
