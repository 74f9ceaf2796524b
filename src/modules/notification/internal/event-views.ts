import { z } from 'zod';

/**
 * What notification reads of other modules' events — its own tolerant views of the published payloads
 * (seed 002 §6.5, §8.4): unknown fields are ignored, fields the catalog does not promise are optional, and
 * no other module's code is imported.
 */
const uuid = z.uuid();
const amount = z.union([z.string(), z.number()]).transform(String);

export const userCreatedView = z.object({
  user_id: uuid,
  email: z.string().trim().min(3).max(320),
  full_name: z.string().nullable().optional(),
});

export const notificationSettings = z.object({
  email_enabled: z.boolean().optional(),
  opt_outs: z.array(z.string().max(100)).max(100).optional(),
});

export const userUpdatedView = z.object({
  user_id: uuid,
  changes: z.object({
    email: z.string().trim().min(3).max(320).optional(),
    full_name: z.string().nullable().optional(),
    phone: z.string().max(50).nullable().optional(),
    notification_settings: notificationSettings.optional(),
  }),
});

export const userDeletedView = z.object({ user_id: uuid });

export const bookingCreatedView = z.object({
  booking_id: uuid,
  user_id: uuid,
  user_email: z.string().trim().max(320).optional(),
  showtime_snapshot: z.object({
    movie_title: z.string().optional(),
    theater_name: z.string().optional(),
    screen: z.string().nullable().optional(),
    start_time: z.string().optional(),
  }).optional(),
  seats: z.array(z.object({ row: z.string().optional(), number: z.number().optional(), seat_id: z.string().optional() })).optional(),
  total_price: amount.optional(),
  currency: z.string().optional(),
  expires_at: z.string().optional(),
});

export const bookingRefView = z.object({
  booking_id: uuid,
  user_id: uuid.optional(),
  reason: z.string().optional(),
  refund_required: z.boolean().optional(),
});

export const paymentView = z.object({
  payment_id: z.string(),
  booking_id: uuid,
  user_id: uuid.optional(),
  amount: amount.optional(),
  refund_amount: amount.optional(),
  currency: z.string().optional(),
  transaction_id: z.string().optional(),
  reason: z.string().optional(),
});

export const showtimeCancelledView = z.object({
  showtime_id: uuid,
  reason: z.string().optional(),
  affected_bookings: z.array(uuid).default([]),
});

export type BookingCreatedView = z.infer<typeof bookingCreatedView>;
export type BookingRefView = z.infer<typeof bookingRefView>;
export type PaymentView = z.infer<typeof paymentView>;
