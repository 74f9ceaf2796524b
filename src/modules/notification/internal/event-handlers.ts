import type { Knex } from '../../../platform/db.ts';
import type { Envelope } from '../../../platform/events/envelope.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { Metrics } from '../../../platform/metrics.ts';
import type { EventHandler } from '../../../platform/module.ts';
import type { BookingSnapshots } from './booking-snapshots.ts';
import {
  bookingCreatedView,
  bookingRefView,
  paymentView,
  showtimeCancelledView,
  userCreatedView,
  userDeletedView,
  userUpdatedView,
} from './event-views.ts';
import { bookingVars, formatInstant, formatMoney, snapshotFromBookingCreated } from './notification-content.ts';
import type { NotificationService } from './notification-service.ts';
import type { UserPreferencesStore } from './user-preferences.ts';

export interface HandlerDeps {
  service: NotificationService;
  prefs: UserPreferencesStore;
  snapshots: BookingSnapshots;
  logger: Logger;
  metrics: Metrics;
}

const at = (event: Envelope) => new Date(event.timestamp);

/**
 * notification-service.events handlers (bound to `#`): user.* keep user_preferences current; booking.*,
 * payment.* and showtime.cancelled become notifications. Each runs in the consumer's transaction after
 * the event id went into notifications.inbox; other event types are acknowledged and skipped.
 */
export function createEventHandlers(d: HandlerDeps): Record<string, EventHandler> {
  const unroutable = d.metrics.counter('notifications_unroutable_total', 'Events that named no user to notify', ['event_type']);

  /** user from the payload, else from what booking.created told us, else from the envelope's metadata */
  async function userFor(trx: Knex.Transaction, event: Envelope, userId: string | undefined, bookingId: string) {
    const snapshot = await d.snapshots.get(trx, bookingId);
    const meta = event.metadata['user_id'];
    const user = userId ?? snapshot?.userId ?? (typeof meta === 'string' ? meta : undefined);
    if (!user) {
      unroutable.inc({ event_type: event.event_type });
      d.logger.warn({ eventId: event.event_id, eventType: event.event_type, bookingId }, 'event names no user; no notification');
    }
    return { user, snapshot };
  }

  const bookingEvent: EventHandler = async (event, trx) => {
    const p = bookingRefView.parse(event.payload);
    const { user, snapshot } = await userFor(trx, event, p.user_id, p.booking_id);
    if (!user) return;
    const refundNote = p.refund_required ? 'Your payment will be refunded.' : '';
    await d.service.notify(trx, event, {
      userId: user,
      vars: { ...bookingVars(p.booking_id, snapshot), reason: p.reason ?? 'no reason given', refund_note: refundNote },
    });
  };

  const paymentEvent: EventHandler = async (event, trx) => {
    const p = paymentView.parse(event.payload);
    const { user, snapshot } = await userFor(trx, event, p.user_id, p.booking_id);
    if (!user) return;
    const currency = p.currency ?? snapshot?.currency ?? null;
    await d.service.notify(trx, event, {
      userId: user,
      vars: {
        ...bookingVars(p.booking_id, snapshot),
        amount: formatMoney(p.refund_amount ?? p.amount ?? snapshot?.totalPrice, currency),
        payment_ref: p.payment_id.slice(0, 8).toUpperCase(),
        transaction_id: p.transaction_id ?? '',
        reason: p.reason ?? '',
      },
    });
  };

  return {
    'user.created': async (event, trx) => {
      const p = userCreatedView.parse(event.payload);
      const prefs = await d.prefs.applyCreated(trx, p.user_id, { email: p.email, fullName: p.full_name ?? null }, at(event));
      await d.service.releaseParked(trx, prefs);
      await d.service.notify(trx, event, { userId: p.user_id, vars: {} });
    },
    'user.updated': async (event, trx) => {
      const p = userUpdatedView.parse(event.payload);
      const c = p.changes;
      const { prefs, applied } = await d.prefs.applyUpdated(trx, p.user_id, {
        email: c.email,
        fullName: c.full_name,
        phone: c.phone,
        emailEnabled: c.notification_settings?.email_enabled,
        optOuts: c.notification_settings?.opt_outs,
      }, at(event));
      if (applied) await d.service.releaseParked(trx, prefs);
    },
    'user.deleted': async (event, trx) => {
      const p = userDeletedView.parse(event.payload);
      await d.prefs.remove(trx, p.user_id);
      await d.service.dropParked(trx, p.user_id, 'the user was deleted');
    },
    'booking.created': async (event, trx) => {
      const p = bookingCreatedView.parse(event.payload);
      const snapshot = snapshotFromBookingCreated(p);
      await d.snapshots.save(trx, snapshot);
      if (p.user_email) {
        const prefs = await d.prefs.rememberBookingEmail(trx, p.user_id, p.user_email, at(event));
        await d.service.releaseParked(trx, prefs);
      }
      await d.service.notify(trx, event, {
        userId: p.user_id,
        vars: { ...bookingVars(p.booking_id, snapshot), expires_at: formatInstant(p.expires_at) },
      });
    },
    'booking.confirmed': bookingEvent,
    'booking.cancelled': bookingEvent,
    'booking.expired': bookingEvent,
    'payment.completed': paymentEvent,
    'payment.failed': paymentEvent,
    'payment.refunded': paymentEvent,
    'showtime.cancelled': async (event, trx) => {
      const p = showtimeCancelledView.parse(event.payload);
      for (const snapshot of await d.snapshots.getMany(trx, p.affected_bookings)) {
        await d.service.notify(trx, event, {
          userId: snapshot.userId,
          subject: snapshot.bookingId,
          vars: { ...bookingVars(snapshot.bookingId, snapshot), reason: p.reason ?? 'no reason given' },
        });
      }
    },
  };
}
