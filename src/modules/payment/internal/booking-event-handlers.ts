import type { Logger } from '../../../platform/logger.ts';
import type { EventHandler } from '../../../platform/module.ts';
import { bookingCreatedView, bookingRefView } from './events.ts';
import type { Settlement } from './settlement.ts';
import type { SnapshotStore } from './snapshot-store.ts';

export interface BookingEventHandlerDeps {
  snapshots: SnapshotStore;
  settlement: Settlement;
  defaultCurrency: string;
  logger: Logger;
}

/**
 * Payment's reactions to booking events (queue payment-service.events, bindings booking.*; seed §3.4,
 * §6.5). Each runs in the consumer's transaction after the event id went into payments.inbox, and is
 * idempotent on its own too: a snapshot is written once, and a refund needs a completed payment (and
 * the gateway refunds a payment once under its refund key).
 */
export function createBookingEventHandlers(deps: BookingEventHandlerDeps): Record<string, EventHandler> {
  const { snapshots, settlement, logger } = deps;

  /** the booking is over without being confirmed by us: settle its open payment, refund a paid one */
  const ended = (status: 'cancelled' | 'expired'): EventHandler => async (event, trx) => {
    const p = bookingRefView.parse(event.payload);
    await snapshots.recordStatus(trx, p.booking_id, p.user_id, status);
    const settled = await settlement.settleBooking(trx, p.booking_id, `booking_${status}`);
    if (settled.length > 0) {
      logger.info({ booking_id: p.booking_id, event_id: event.event_id, payments: settled.map((s) => ({ id: s.id, status: s.status })) }, `booking ${status}: payments settled`);
    }
  };

  return {
    'booking.created': async (event, trx) => {
      const p = bookingCreatedView.parse(event.payload);
      const stored = await snapshots.recordCreated(trx, event.event_id, p, deps.defaultCurrency);
      logger.info({ booking_id: p.booking_id, event_id: event.event_id, stored }, stored ? 'booking snapshot stored' : 'booking snapshot already present');
    },
    'booking.confirmed': async (event, trx) => {
      const p = bookingRefView.parse(event.payload);
      await snapshots.recordStatus(trx, p.booking_id, p.user_id, 'confirmed');
    },
    'booking.cancelled': ended('cancelled'),
    'booking.expired': ended('expired'),
  };
}
