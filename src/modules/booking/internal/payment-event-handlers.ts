import type { Knex } from '../../../platform/db.ts';
import { buildEnvelope, type Envelope } from '../../../platform/events/envelope.ts';
import { appendToOutbox } from '../../../platform/events/outbox.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { StoreRouting } from '../../../platform/mapping/store-routing.ts';
import type { EventHandler } from '../../../platform/module.ts';
import { OUTBOX_SCHEMA, SOURCE } from './booking-service.ts';
import { bookingCancelledV1, bookingConfirmedV1, paymentOutcomeView } from './events.ts';
import type { SagaState, SagaStep } from './saga-state.ts';
import type { SeatHolds } from './seat-holds.ts';
import type { BookingRecord, BookingStore } from './types.ts';

export interface PaymentHandlerDeps {
  store: BookingStore;
  saga: SagaState;
  holds: SeatHolds;
  logger: Logger;
  /** where booking's store calls go right now (for the log line of a booking it does not find) */
  stores: () => StoreRouting;
}

/**
 * Booking's side of the choreographed saga (seed 002 §6.5, §8.4.4), on queue booking-service.events:
 *  - payment.completed: pending → confirmed, booking.confirmed to the outbox (movie sells the seats);
 *  - payment.failed:    pending → cancelled, seats freed, booking.cancelled (movie releases the seats);
 *  - payment.refunded:  recorded on the saga.
 * Each runs in the consumer's transaction, after the event id went into bookings.inbox, with the booking
 * row locked — so a payment outcome racing the expiry sweeper or a user's cancel sees one final state.
 * A payment that completes for a booking that already expired or was cancelled is not applied: payment
 * refunds it when it handles that booking.expired / booking.cancelled (ADR 0012).
 */
export function createPaymentEventHandlers(deps: PaymentHandlerDeps): Record<string, EventHandler> {
  const { store, saga, holds, logger, stores } = deps;
  const caused = (event: Envelope) => ({ source: SOURCE, correlationId: event.correlation_id, causationId: event.event_id });

  /** the booking, locked; undefined (and a warning) when this store does not know it */
  const lock = async (trx: Knex.Transaction, event: Envelope): Promise<{ booking: BookingRecord; paymentId: string; reason: string | null } | undefined> => {
    const p = paymentOutcomeView.parse(event.payload);
    const booking = await store.lockById(trx, p.booking_id);
    if (!booking) {
      logger.warn({ event: event.event_type, booking_id: p.booking_id, stores: stores() }, 'payment event for a booking this store does not have; skipped');
      return undefined;
    }
    return { booking, paymentId: p.payment_id, reason: p.reason ?? null };
  };

  /** an outcome for a booking that already ended (expired, cancelled): noted on the saga, nothing else changes */
  const noteLate = async (trx: Knex.Transaction, event: Envelope, b: BookingRecord, paymentId: string) => {
    await saga.advance(trx, b.id, b.status as SagaStep, b.status === 'confirmed' ? 'completed' : 'compensated', {
      action: 'ignored_late_payment_event',
      reason: `${event.event_type} (payment ${paymentId}) arrived when the booking was ${b.status}`,
    });
    logger.warn({ event: event.event_type, booking_id: b.id, payment_id: paymentId, status: b.status }, 'payment outcome for a booking that is no longer pending; left as it is');
  };

  return {
    'payment.completed': async (event, trx) => {
      const found = await lock(trx, event);
      if (!found || found.booking.status === 'confirmed') return;
      const b = found.booking;
      if (b.status !== 'pending') return noteLate(trx, event, b, found.paymentId);
      await store.confirm(trx, b.id);
      await saga.advance(trx, b.id, 'confirmed', 'completed');
      await appendToOutbox(trx, OUTBOX_SCHEMA, buildEnvelope(bookingConfirmedV1, {
        booking_id: b.id, user_id: b.userId, showtime_id: b.showtimeId, seat_ids: b.seats.map((s) => s.seatId),
        payment_id: found.paymentId, total_price: b.totalPrice, currency: b.currency, confirmed_at: new Date().toISOString(),
      }, caused(event)));
    },
    'payment.failed': async (event, trx) => {
      const found = await lock(trx, event);
      if (!found) return;
      const b = found.booking;
      if (b.status !== 'pending') return noteLate(trx, event, b, found.paymentId);
      // at most 500 characters, as a customer's reason: the shared bookings table keeps no more (VARCHAR(500))
      const reason = `payment_failed: ${found.reason ?? 'declined'}`.slice(0, 500);
      await store.finish(trx, b.id, 'cancelled', reason);
      await saga.advance(trx, b.id, 'cancelled', 'compensated', { action: 'release_seats', reason });
      await appendToOutbox(trx, OUTBOX_SCHEMA, buildEnvelope(bookingCancelledV1, {
        booking_id: b.id, user_id: b.userId, showtime_id: b.showtimeId, seat_ids: b.seats.map((s) => s.seatId), reason,
        cancelled_at: new Date().toISOString(), refund_required: false,
      }, caused(event)));
      // the Redis holds go once the cancellation is committed (a rollback must leave them in place)
      trx.executionPromise
        .then(() => holds.releaseSeats(b.showtimeId, b.seats.map((s) => s.seatId), b.id))
        .catch((err: unknown) => logger.debug({ err, booking_id: b.id }, 'seat holds not released after payment.failed (they expire on their own)'));
    },
    'payment.refunded': async (event, trx) => {
      const found = await lock(trx, event);
      if (!found) return;
      const b = found.booking;
      const step: SagaStep = b.status === 'pending' ? 'awaiting_payment' : b.status;
      await saga.advance(trx, b.id, step, b.status === 'confirmed' ? 'completed' : 'compensated', {
        action: 'refunded', reason: `payment ${found.paymentId}: ${found.reason ?? 'refunded'}`,
      });
    },
  };
}
