import type { Knex } from '../../../platform/db.ts';
import { buildEnvelope, type Envelope } from '../../../platform/events/envelope.ts';
import { appendToOutbox } from '../../../platform/events/outbox.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { EventHandler } from '../../../platform/module.ts';
import { bookingCreatedView, bookingRefView, seatConfirmedV1, seatReleasedV1, seatReservedV1 } from './events.ts';
import type { SeatProjection } from './seat-projection.ts';

const SOURCE = 'movie';

/**
 * The movie module's reactions to booking events (queue movie-service.events, bindings booking.*): keep
 * seat_availability in step and announce seat.* events. Each runs in the consumer's transaction, after the
 * event id went into movies.inbox, and is idempotent on its own as well.
 */
export function createBookingEventHandlers(deps: { projection: SeatProjection; schema: string; logger: Logger }): Record<string, EventHandler> {
  const { projection, schema, logger } = deps;
  const announce = (trx: Knex.Transaction, cause: Envelope, envelope: Envelope) =>
    appendToOutbox(trx, schema, envelope).then(() =>
      logger.debug({ event: envelope.event_type, cause: cause.event_id }, 'seat event written'),
    );
  const options = (cause: Envelope) => ({ source: SOURCE, correlationId: cause.correlation_id, causationId: cause.event_id });

  const release = (reason: 'expired' | 'cancelled'): EventHandler => async (event, trx) => {
    const { booking_id } = bookingRefView.parse(event.payload);
    for (const change of await projection.release(trx, booking_id)) {
      await announce(trx, event, buildEnvelope(seatReleasedV1, { showtime_id: change.showtimeId, seat_ids: change.seatIds, booking_id, reason }, options(event)));
    }
  };

  return {
    'booking.created': async (event, trx) => {
      const p = bookingCreatedView.parse(event.payload);
      const seatIds = p.seats.map((s) => s.seat_id);
      const changed = await projection.reserve(trx, p.booking_id, p.showtime_id, seatIds, new Date(p.expires_at));
      if (changed.length < seatIds.length) {
        logger.warn({ booking_id: p.booking_id, requested: seatIds.length, changed: changed.length }, 'booking.created: some seats were already held by it or sold');
      }
      if (changed.length === 0) return;
      await announce(
        trx,
        event,
        buildEnvelope(seatReservedV1, { showtime_id: p.showtime_id, seat_ids: changed, booking_id: p.booking_id, expires_at: new Date(p.expires_at).toISOString() }, options(event)),
      );
    },
    'booking.confirmed': async (event, trx) => {
      const { booking_id } = bookingRefView.parse(event.payload);
      for (const change of await projection.confirm(trx, booking_id)) {
        await announce(trx, event, buildEnvelope(seatConfirmedV1, { showtime_id: change.showtimeId, seat_ids: change.seatIds, booking_id }, options(event)));
      }
    },
    'booking.cancelled': release('cancelled'),
    'booking.expired': release('expired'),
  };
}
