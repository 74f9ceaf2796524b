import { z } from 'zod';
import { defineEvent } from '../../../platform/events/envelope.ts';

const money = z.string().regex(/^\d+\.\d{2}$/);
const instant = z.iso.datetime({ offset: true });

/** booking.created v1.0 — the payload of seed 002 §8.4.3 (money as exact decimal strings). */
export const bookingCreatedV1 = defineEvent(
  'booking.created',
  '1.0',
  z.object({
    booking_id: z.uuid(),
    user_id: z.uuid(),
    user_email: z.string(),
    showtime_id: z.uuid(),
    showtime_snapshot: z.object({
      movie_id: z.uuid(),
      movie_title: z.string(),
      theater_id: z.uuid(),
      theater_name: z.string(),
      screen: z.string().nullable(),
      city: z.string().nullable(),
      start_time: instant,
      end_time: instant,
      base_price: money,
      currency: z.string().length(3),
    }),
    seats: z.array(z.object({ seat_id: z.uuid(), row: z.string(), number: z.number().int(), type: z.string(), price: money })).min(1),
    total_price: money,
    currency: z.string().length(3),
    status: z.literal('pending'),
    expires_at: instant,
    created_at: instant,
  }),
);

/** booking.cancelled v1.0 (§8.4.2, plus showtime_id and seat_ids so consumers need no lookup) */
export const bookingCancelledV1 = defineEvent(
  'booking.cancelled',
  '1.0',
  z.object({
    booking_id: z.uuid(),
    user_id: z.uuid(),
    showtime_id: z.uuid(),
    seat_ids: z.array(z.uuid()),
    reason: z.string(),
    cancelled_at: instant,
    refund_required: z.boolean(),
  }),
);

/** booking.expired v1.0 (§8.4.2, plus showtime_id and seat_ids) */
export const bookingExpiredV1 = defineEvent(
  'booking.expired',
  '1.0',
  z.object({ booking_id: z.uuid(), user_id: z.uuid(), showtime_id: z.uuid(), seat_ids: z.array(z.uuid()), expired_at: instant }),
);

/** booking.confirmed v1.0 (§8.4.2, plus showtime_id and seat_ids so movie can confirm seats without a lookup) */
export const bookingConfirmedV1 = defineEvent(
  'booking.confirmed',
  '1.0',
  z.object({
    booking_id: z.uuid(),
    user_id: z.uuid(),
    showtime_id: z.uuid(),
    seat_ids: z.array(z.uuid()).min(1),
    payment_id: z.uuid(),
    total_price: money,
    currency: z.string().length(3),
    confirmed_at: instant,
  }),
);

/**
 * What booking reads of payment.completed / payment.failed / payment.refunded — a tolerant reader: the
 * ids and a reason, anything else ignored (payment may add fields in a minor version).
 */
export const paymentOutcomeView = z.object({
  payment_id: z.uuid(),
  booking_id: z.uuid(),
  reason: z.string().nullish(),
});
