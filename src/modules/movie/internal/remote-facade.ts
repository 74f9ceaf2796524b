import { z } from 'zod';
import type { InternalClient } from '../../../platform/http/internal-client.ts';
import type { PricedSeat, ShowtimeSnapshot } from './views.ts';

const money = z.string().regex(/^\d+\.\d{2}$/);

const snapshotSchema = z.object({
  showtime_id: z.uuid(),
  movie_id: z.uuid(),
  movie_title: z.string(),
  theater_id: z.uuid(),
  theater_name: z.string(),
  screen: z.string().nullable(),
  city: z.string().nullable(),
  start_time: z.iso.datetime({ offset: true }),
  end_time: z.iso.datetime({ offset: true }),
  base_price: money,
  currency: z.string().length(3),
  status: z.enum(['scheduled', 'cancelled']),
}) satisfies z.ZodType<ShowtimeSnapshot>;

const layoutSchema = z.array(
  z.object({ seat_id: z.uuid(), row: z.string(), number: z.number().int(), type: z.string(), price: money }),
) satisfies z.ZodType<PricedSeat[]>;

export interface MovieReads {
  getShowtimeSnapshot(showtimeId: string): Promise<ShowtimeSnapshot | undefined>;
  getSeatLayout(showtimeId: string): Promise<PricedSeat[] | undefined>;
}

/**
 * The movie facade of a process that does not host movie: the same two reads over HTTP from the movie
 * service's internal endpoints, through the internal client (service credential, deadline, retries,
 * circuit). 404 is "no such showtime"; anything else that is not a valid answer is a 503, never a wrong answer.
 */
export function createRemoteMovieReads(client: InternalClient): MovieReads {
  const at = (id: string, what: string) => `/internal/v1/movie/showtimes/${encodeURIComponent(id)}/${what}`;
  return {
    getShowtimeSnapshot: (id) => client.get(at(id, 'snapshot'), snapshotSchema),
    // a layout is big and all but fixed: kept with its ETag, revalidated on every booking (ADR 0053)
    getSeatLayout: (id) => client.getRevalidated(at(id, 'layout'), layoutSchema),
  };
}
