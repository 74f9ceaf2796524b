import { z } from 'zod';
import { pageQuery, text, uuid } from '../../../platform/input.ts';

export const createBookingBody = (maxSeats: number) =>
  z.object({
    showtime_id: uuid,
    seat_ids: z
      .array(uuid, { error: 'must be a list of seat ids' })
      .min(1, 'must name at least one seat')
      .max(maxSeats, `must name at most ${maxSeats} seats`)
      .refine((ids) => new Set(ids.map((i) => i.toLowerCase())).size === ids.length, 'must not name a seat twice')
      .transform((ids) => ids.map((i) => i.toLowerCase())),
  });

export type CreateBookingInput = z.infer<ReturnType<typeof createBookingBody>>;

export const idParams = z.object({ id: uuid });

export const listBookingsQuery = z.object(pageQuery);

export const cancelBookingBody = z.object({
  reason: text(500).default('cancelled by the customer'),
});
