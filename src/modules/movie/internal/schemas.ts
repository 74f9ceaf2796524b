import { z } from 'zod';
import { calendarDay, httpUrl, instant, optionalText, pageQuery, text, uuid } from '../../../platform/input.ts';
import { currencyCode, moneyInput } from '../../../platform/money.ts';
import { SEAT_TYPES } from './types.ts';

const seatType = z.enum(SEAT_TYPES, { error: `must be one of ${SEAT_TYPES.join(', ')}` });
/** A showtime is scheduled (or moved) to a time still ahead: one in the past could never be booked. */
const futureInstant = instant.refine((d) => d.getTime() > Date.now(), 'must be in the future');
const tierPrices = z.partialRecord(seatType, moneyInput, { error: 'must map seat types to prices' });

export const idParams = z.object({ id: uuid });

export const createMovieBody = z.object({
  title: text(255),
  duration_minutes: z.number({ error: 'must be a number of minutes' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000'),
  genre: optionalText(100),
  rating: optionalText(10),
  release_date: calendarDay.nullable().optional(),
  description: z.string({ error: 'must be a string' }).max(10_000, 'must be at most 10000 characters').nullable().optional(),
  poster_url: httpUrl.nullable().optional(),
});
export const updateMovieBody = createMovieBody.partial().refine((b) => Object.keys(b).length > 0, 'name at least one field to change');

export const listMoviesQuery = z.object({
  ...pageQuery,
  genre: text(100).optional(),
  rating: text(10).optional(),
  q: text(100).optional(),
});

const layoutRow = z.object({
  row: z.string({ error: 'must be a row label' }).regex(/^[A-Z]{1,3}$/, 'must be 1-3 capital letters, e.g. "A"'),
  seats: z.number({ error: 'must be a number of seats' }).int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100'),
  type: seatType.default('standard'),
});

export const createTheaterBody = z.object({
  name: text(255),
  city: optionalText(255),
  layout: z.object(
    {
      rows: z
        .array(layoutRow, { error: 'must be a list of rows' })
        .min(1, 'must have at least one row')
        .max(60, 'must have at most 60 rows')
        .refine((rows) => new Set(rows.map((r) => r.row)).size === rows.length, 'must not name a row twice'),
    },
    { error: 'is required: {rows: [{row, seats, type?}]}' },
  ),
});
export const updateTheaterBody = z
  .object({ name: text(255).optional(), city: optionalText(255) })
  .refine((b) => b.name !== undefined || b.city !== undefined, 'name at least one field to change');

export const listTheatersQuery = z.object({ ...pageQuery, city: text(255).optional() });

export const createShowtimeBody = z
  .object({
    movie_id: uuid,
    theater_id: uuid,
    start_time: futureInstant,
    end_time: instant.optional(),
    base_price: moneyInput,
    currency: currencyCode.optional(),
    tier_prices: tierPrices.optional(),
  })
  .refine((b) => !b.end_time || b.end_time > b.start_time, { message: 'must be after start_time', path: ['end_time'] });

export const updateShowtimeBody = z
  .object({ start_time: futureInstant.optional(), end_time: instant.optional(), base_price: moneyInput.optional(), tier_prices: tierPrices.optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'name at least one field to change');

export const cancelShowtimeBody = z.object({ reason: text(500).default('cancelled by the cinema') });

export const listShowtimesQuery = z.object({
  ...pageQuery,
  movie_id: uuid.optional(),
  theater_id: uuid.optional(),
  /** a calendar day (UTC); without it, showtimes from now on */
  date: calendarDay.optional(),
  include_cancelled: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true').optional(),
});

export type CreateMovieInput = z.infer<typeof createMovieBody>;
export type UpdateMovieInput = z.infer<typeof updateMovieBody>;
export type CreateTheaterInput = z.infer<typeof createTheaterBody>;
export type CreateShowtimeInput = z.infer<typeof createShowtimeBody>;
export type UpdateShowtimeInput = z.infer<typeof updateShowtimeBody>;
export type ListShowtimesQuery = z.infer<typeof listShowtimesQuery>;
