import { z } from 'zod';
import { defineEvent } from '../../../platform/events/envelope.ts';
import { moneyInput } from '../../../platform/money.ts';

const money = z.string().regex(/^\d+\.\d{2}$/);
const instant = z.iso.datetime({ offset: true });
const currency = z.string().regex(/^[A-Z]{3}$/);

/** payment.initiated v1.0 (seed 002 §8.4.2) */
export const paymentInitiatedV1 = defineEvent(
  'payment.initiated',
  '1.0',
  z.object({
    payment_id: z.uuid(),
    booking_id: z.uuid(),
    user_id: z.uuid(),
    amount: money,
    currency,
    method: z.string(),
    initiated_at: instant,
  }),
);

/** payment.completed v1.0 — the payload of seed 002 §8.4.3, money as an exact decimal string */
export const paymentCompletedV1 = defineEvent(
  'payment.completed',
  '1.0',
  z.object({
    payment_id: z.uuid(),
    booking_id: z.uuid(),
    user_id: z.uuid(),
    amount: money,
    currency,
    payment_method: z.string(),
    card_last_four: z.string().nullable(),
    /** the gateway's reference of the charge */
    transaction_id: z.string(),
    gateway: z.string(),
    /** the client's Idempotency-Key */
    idempotency_key: z.string().nullable(),
    completed_at: instant,
  }),
);

/** payment.failed v1.0 (§8.4.2, plus user_id and the amount so consumers need no lookup) */
export const paymentFailedV1 = defineEvent(
  'payment.failed',
  '1.0',
  z.object({
    payment_id: z.uuid(),
    booking_id: z.uuid(),
    user_id: z.uuid(),
    amount: money,
    currency,
    reason: z.string(),
    failed_at: instant,
  }),
);

/** payment.refunded v1.0 (§8.4.2, plus user_id, currency and why) */
export const paymentRefundedV1 = defineEvent(
  'payment.refunded',
  '1.0',
  z.object({
    payment_id: z.uuid(),
    booking_id: z.uuid(),
    user_id: z.uuid(),
    refund_amount: money,
    currency,
    reason: z.string(),
    refund_reference: z.string(),
    refunded_at: instant,
  }),
);

/**
 * What payment reads of booking.created (seed §3.4, §8.4.3) — a tolerant reader: only the fields it
 * keeps, money as a string or a number (the seed's examples use numbers), unknown fields ignored.
 */
export const bookingCreatedView = z.object({
  booking_id: z.uuid(),
  user_id: z.uuid(),
  user_email: z.string().nullish(),
  showtime_id: z.uuid().nullish(),
  showtime_snapshot: z.record(z.string(), z.unknown()).default({}),
  seats: z.array(z.record(z.string(), z.unknown())).default([]),
  total_price: moneyInput,
  currency: currency.optional(),
  expires_at: instant.nullish(),
});

/** booking.cancelled / booking.expired / booking.confirmed: the booking and its owner */
export const bookingRefView = z.object({
  booking_id: z.uuid(),
  user_id: z.uuid(),
  reason: z.string().nullish(),
});
