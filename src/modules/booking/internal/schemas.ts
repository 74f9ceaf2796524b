import { z } from 'zod';

export const createBookingBody = (maxSeats: number) =>
  z.object({
    showtime_id: z.uuid({ error: 'must be a UUID' }),
    seat_ids: z
      .array(z.uuid({ error: 'must be a UUID' }), { error: 'must be a list of seat ids' })
      .min(1, 'must name at least one seat')
      .max(maxSeats, `must name at most ${maxSeats} seats`)
      .refine((ids) => new Set(ids.map((i) => i.toLowerCase())).size === ids.length, 'must not name a seat twice')
      .transform((ids) => ids.map((i) => i.toLowerCase())),
  });

export type CreateBookingInput = z.infer<ReturnType<typeof createBookingBody>>;

export const idParams = z.object({ id: z.uuid({ error: 'must be a UUID' }) });

export const listBookingsQuery = z.object({
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
  offset: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').max(100_000, 'must be at most 100000').default(0),
});

export const cancelBookingBody = z.object({
  reason: z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters').default('cancelled by the customer'),
});
