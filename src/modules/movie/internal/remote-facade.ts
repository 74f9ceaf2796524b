import { z } from 'zod';
import type { ServiceCredential } from '../../../platform/auth/service-credential.ts';
import { ServiceUnavailableError } from '../../../platform/errors.ts';
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
 * service's internal endpoints, signed with this deployment's service credential. 404 is "no such
 * showtime"; anything else that is not a valid answer (network error, timeout, 5xx, a refused credential,
 * a body that does not parse) is a 503, never a wrong answer.
 */
export function createRemoteMovieReads(baseUrl: string, credential: ServiceCredential, timeoutMs = 3_000): MovieReads {
  async function read<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
    let res: Response;
    try {
      const headers = { accept: 'application/json', authorization: `Bearer ${await credential.token()}` };
      res = await fetch(new URL(path, baseUrl), { headers, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new ServiceUnavailableError('the movie service did not answer', { cause: String(err) });
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new ServiceUnavailableError(`the movie service answered ${res.status}`);
    }
    const parsed = schema.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw new ServiceUnavailableError('the movie service sent an answer that does not match the facade contract');
    return parsed.data;
  }
  const at = (id: string, what: string) => `/internal/v1/movie/showtimes/${encodeURIComponent(id)}/${what}`;
  return {
    getShowtimeSnapshot: (id) => read(at(id, 'snapshot'), snapshotSchema),
    getSeatLayout: (id) => read(at(id, 'layout'), layoutSchema),
  };
}
