import { randomUUID } from 'node:crypto';
import { createdPayload } from '../../../src/modules/booking/internal/booking-service.ts';
import { bookingCreatedV1 } from '../../../src/modules/booking/internal/events.ts';
import { createLegacyBookingStore } from '../../../src/modules/booking/internal/legacy-booking-store.ts';
import { createOwnBookingStore } from '../../../src/modules/booking/internal/own-booking-store.ts';
import { BOOKING_STORE_METHODS, type BookingStore, type NewBooking } from '../../../src/modules/booking/internal/types.ts';
import type { ShowtimeSnapshot } from '../../../src/modules/movie/index.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { buildEnvelope } from '../../../src/platform/events/envelope.ts';
import type { WriteExercise } from '../../migration/write-exercise.ts';

/** A booking of `seats` seats of a showtime that exists only in the movie schema (the stores take the snapshot as given). */
function newBooking(showtimeId: string, seatIds: string[], expiresAt: Date): NewBooking {
  const now = new Date();
  const snapshot: ShowtimeSnapshot = {
    showtime_id: showtimeId, movie_id: randomUUID(), movie_title: 'Writes', theater_id: randomUUID(), theater_name: 'Hall - Screen 2', screen: 'Screen 2',
    city: null, start_time: '2031-06-01T18:00:00.000Z', end_time: '2031-06-01T20:00:00.000Z', base_price: '90000.00', currency: 'USD', status: 'scheduled',
  };
  const seats = [...seatIds].sort().map((seatId, i) => ({ seatId, row: 'B', number: i + 1, type: i === 0 ? 'vip' : 'standard', price: i === 0 ? '120000.00' : '90000.00' }));
  const total = seats.reduce((sum, s) => sum + Number(s.price), 0);
  return { id: randomUUID(), userId: randomUUID(), userEmail: `w-${randomUUID().slice(0, 6)}@example.com`, showtimeId, snapshot, totalPrice: `${total}.00`, currency: 'USD', expiresAt, createdAt: now, seats };
}

// the pool the legacy store recounts the old free-seat counter on: the one the exercise is given
let pool: Knex | undefined;

/** Every write of booking's store, through the routed store (test/migration/write-coverage.test.ts). */
export const writeExercises: WriteExercise[] = [
  {
    module: 'booking',
    store: ({ legacySchema }) => ({
      module: 'booking', name: 'bookings', legacy: createLegacyBookingStore(legacySchema, 'VND', { db: () => pool! }), own: createOwnBookingStore(), methods: BOOKING_STORE_METHODS,
    }),
    async exercise(store, db) {
      pool = db;
      const bookings = store as BookingStore;
      const showtimeId = randomUUID();
      const seats = Array.from({ length: 6 }, () => randomUUID());
      const later = new Date(Date.now() + 600_000);
      const [toConfirm, toCancel, toExpire] = [newBooking(showtimeId, seats.slice(0, 2), later), newBooking(showtimeId, seats.slice(2, 4), later), newBooking(showtimeId, [seats[4]!], new Date(Date.now() - 1_000))];
      for (const b of [toConfirm, toCancel, toExpire]) await db.transaction((trx) => bookings.insertPending(trx, b));
      await db.transaction((trx) => bookings.confirm(trx, toConfirm.id));
      await db.transaction((trx) => bookings.finish(trx, toCancel.id, 'cancelled', 'changed my mind'));
      // as the sweeper does: claim (a lock), then finish in the same transaction
      await db.transaction(async (trx) => {
        for (const id of await bookings.claimExpired(trx, new Date(), 10)) await bookings.finish(trx, id, 'expired', 'payment not received in time');
      });
      // a freed seat taken again: the own side's one-active-booking index sees the old row inactive first
      const again = newBooking(showtimeId, [seats[2]!, seats[5]!], later);
      await db.transaction(async (trx) => {
        await bookings.insertPending(trx, again);
        await bookings.finish(trx, again.id, 'cancelled', 'payment_failed: declined');
      });
      // the service's path: caps, booking, saga row and booking.created in one call, on the pool
      const direct = newBooking(showtimeId, [seats[3]!, seats[4]!], later);
      await bookings.createPending(db, direct, {
        limits: { maxBookings: 10, maxSeatsPerShowtime: 10 }, now: new Date(),
        event: buildEnvelope(bookingCreatedV1, createdPayload({ ...direct, status: 'pending', cancelReason: null, updatedAt: direct.createdAt }), { source: 'booking' }),
      });
    },
  } satisfies WriteExercise<BookingStore> as WriteExercise,
];
