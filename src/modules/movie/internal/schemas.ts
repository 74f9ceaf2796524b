import { z } from 'zod';
import { currencyCode, moneyInput } from '../../../platform/money.ts';
import { SEAT_TYPES } from './types.ts';

const text = (max: number) => z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const optionalText = (max: number) => text(max).nullable().optional();
const isoDay = z.iso.date({ error: 'must be a date as YYYY-MM-DD' });
const instant = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-01-24T19:00:00Z' }).transform((s) => new Date(s));
const seatType = z.enum(SEAT_TYPES, { error: `must be one of ${SEAT_TYPES.join(', ')}` });
const tierPrices = z.partialRecord(seatType, moneyInput, { error: 'must map seat types to prices' });

export const idParams = z.object({ id: z.uuid({ error: 'must be a UUID' }) });

export const pageQuery = {
  limit: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(100, 'must be at most 100').default(20),
  offset: z.coerce.number({ error: 'must be a number' }).int('must be a whole number').min(0, 'must not be negative').max(100_000, 'must be at most 100000').default(0),
};

export const createMovieBody = z.object({
  title: text(255),
  duration_minutes: z.number({ error: 'must be a number of minutes' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000'),
  genre: optionalText(100),
  rating: optionalText(10),
  release_date: isoDay.nullable().optional(),
  description: z.string({ error: 'must be a string' }).max(10_000, 'must be at most 10000 characters').nullable().optional(),
  poster_url: z.url({ error: 'must be a URL' }).max(500, 'must be at most 500 characters').nullable().optional(),
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
    movie_id: z.uuid({ error: 'must be a UUID' }),
    theater_id: z.uuid({ error: 'must be a UUID' }),
    start_time: instant,
    end_time: instant.optional(),
    base_price: moneyInput,
    currency: currencyCode.optional(),
    tier_prices: tierPrices.optional(),
  })
  .refine((b) => !b.end_time || b.end_time > b.start_time, { message: 'must be after start_time', path: ['end_time'] });

export const updateShowtimeBody = z
  .object({ start_time: instant.optional(), end_time: instant.optional(), base_price: moneyInput.optional(), tier_prices: tierPrices.optional() })
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'name at least one field to change');

export const cancelShowtimeBody = z.object({ reason: text(500).default('cancelled by the cinema') });

export const listShowtimesQuery = z.object({
  ...pageQuery,
  movie_id: z.uuid({ error: 'must be a UUID' }).optional(),
  theater_id: z.uuid({ error: 'must be a UUID' }).optional(),
  /** a calendar day (UTC); without it, showtimes from now on */
  date: isoDay.optional(),
  include_cancelled: z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true').optional(),
});

export type CreateMovieInput = z.infer<typeof createMovieBody>;
export type UpdateMovieInput = z.infer<typeof updateMovieBody>;
export type CreateTheaterInput = z.infer<typeof createTheaterBody>;
export type CreateShowtimeInput = z.infer<typeof createShowtimeBody>;
export type UpdateShowtimeInput = z.infer<typeof updateShowtimeBody>;
export type ListShowtimesQuery = z.infer<typeof listShowtimesQuery>;
