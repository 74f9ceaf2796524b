import { z } from 'zod';
import { defineEvent } from '../../../platform/events/envelope.ts';

const money = z.string().regex(/^\d+\.\d{2}$/);
const seatIds = z.array(z.uuid()).min(1);

/** showtime.created v1.0 (seed 002 §8.4.2; `price` is the base price as an exact decimal string) */
export const showtimeCreatedV1 = defineEvent(
  'showtime.created',
  '1.0',
  z.object({
    showtime_id: z.uuid(),
    movie_id: z.uuid(),
    theater_id: z.uuid(),
    start_time: z.iso.datetime(),
    end_time: z.iso.datetime(),
    price: money,
    currency: z.string().length(3),
    total_seats: z.number().int().nonnegative(),
  }),
);

/** showtime.updated v1.0: only the fields that changed, with their new values */
export const showtimeUpdatedV1 = defineEvent(
  'showtime.updated',
  '1.0',
  z.object({ showtime_id: z.uuid(), changes: z.record(z.string(), z.unknown()) }),
);

/** showtime.cancelled v1.0: the bookings holding or owning seats of it, for refunds and notices */
export const showtimeCancelledV1 = defineEvent(
  'showtime.cancelled',
  '1.0',
  z.object({ showtime_id: z.uuid(), reason: z.string(), affected_bookings: z.array(z.uuid()) }),
);

/** seat.reserved v1.0: seats held for a pending booking until expires_at */
export const seatReservedV1 = defineEvent(
  'seat.reserved',
  '1.0',
  z.object({ showtime_id: z.uuid(), seat_ids: seatIds, booking_id: z.uuid(), expires_at: z.iso.datetime() }),
);

/** seat.released v1.0 (booking_id added to the seed's payload so booking can match it) */
export const seatReleasedV1 = defineEvent(
  'seat.released',
  '1.0',
  z.object({ showtime_id: z.uuid(), seat_ids: seatIds, booking_id: z.uuid(), reason: z.enum(['expired', 'cancelled']) }),
);

/** seat.confirmed v1.0: seats permanently sold */
export const seatConfirmedV1 = defineEvent(
  'seat.confirmed',
  '1.0',
  z.object({ showtime_id: z.uuid(), seat_ids: seatIds, booking_id: z.uuid() }),
);

/**
 * What movie reads of booking events — its own, tolerant view (unknown fields are ignored), so movie does
 * not depend on the booking module's code, only on the published payloads (seed 002 §8.4.2–8.4.3).
 */
export const bookingCreatedView = z.object({
  booking_id: z.uuid(),
  showtime_id: z.uuid(),
  seats: z.array(z.object({ seat_id: z.uuid() })).min(1),
  expires_at: z.iso.datetime({ offset: true }),
});
export const bookingRefView = z.object({ booking_id: z.uuid() });
