import type { ExecutionContext } from 'ava';
import { Agent, request as httpRequest } from 'node:http';
import type { TestApp } from '../../helpers/app.ts';
import type { TestUser } from '../../helpers/catalog.ts';
import { waitFor } from '../../helpers/events.ts';

export interface Outcome {
  status: number;
  body: any;
  seats: string[];
}

/** JSON requests over a keep-alive agent with room for every concurrent client (node:http, no extra dependency). */
export function client(base: string, maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const request = async (method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const url = new URL(path, base);
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = httpRequest(
        url,
        {
          method,
          agent,
          headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  };
  return { request, close: () => agent.destroy() };
}
export type Client = ReturnType<typeof client>;

const pick = <T>(xs: T[], n: number): T[] => {
  const copy = [...xs];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
};

export interface RaceResult {
  created: Map<string, string[]>;
  cancelled: Set<string>;
  statuses: Map<number, number>;
  attempts: number;
}

/**
 * `clients` concurrent clients, each booking a random basket of 1–4 seats of the showtime again and
 * again until `ms` have passed; a third of their successes are cancelled at once (churn, so the race
 * goes on after the first fill). Returns what the server answered.
 */
export async function runBasketRace(http: Client, showtimeId: string, seatIds: string[], users: TestUser[], clients: number, ms: number, during?: () => void): Promise<RaceResult> {
  const result: RaceResult = { created: new Map(), cancelled: new Set(), statuses: new Map(), attempts: 0 };
  const count = (s: number) => result.statuses.set(s, (result.statuses.get(s) ?? 0) + 1);
  const deadline = Date.now() + ms;
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const user = users[i % users.length]!;
      while (Date.now() < deadline) {
        during?.();
        const basket = pick(seatIds, 1 + Math.floor(Math.random() * 4));
        result.attempts++;
        const res = await http.request('POST', '/api/v1/bookings', user.token, { showtime_id: showtimeId, seat_ids: basket });
        count(res.status);
        if (res.status === 201) {
          result.created.set(res.body.id, [...basket].sort());
          if (Math.random() < 1 / 3) {
            const c = await http.request('POST', `/api/v1/bookings/${res.body.id}/cancel`, user.token, {});
            count(c.status === 200 ? 1200 : c.status);
            if (c.status === 200) result.cancelled.add(res.body.id);
          }
        } else if (res.status === 409) {
          await new Promise((r) => setTimeout(r, Math.random() * 5));
        }
      }
    }),
  );
  return result;
}

/**
 * The invariants after a race: no seat in two active bookings; every booking that answered 201 and was
 * not cancelled holds exactly its seats; nothing else holds seats (refused requests left no rows); the
 * store has exactly the bookings that answered 201; and the Redis seat holds belong to live bookings only.
 */
export async function assertInvariants(
  t: ExecutionContext,
  app: TestApp,
  showtimeId: string,
  race: RaceResult,
  perSeat: boolean,
  /** exact: Redis holds exactly the live bookings' seats; subset: only such holds (after FLUSHALLs some are gone) */
  redisHolds: 'exact' | 'subset' = 'exact',
): Promise<void> {
  const booking = app.app.booking!;
  const active = await booking.admin.activeSeats(showtimeId);
  const bySeat = new Map<string, string[]>();
  for (const a of active) bySeat.set(a.seatId, [...(bySeat.get(a.seatId) ?? []), a.bookingId]);
  const doubles = [...bySeat].filter(([, ids]) => ids.length > 1);
  t.deepEqual(doubles, [], 'no seat is held or sold twice');
  const expected = new Map<string, string>();
  for (const [id, seats] of race.created) if (!race.cancelled.has(id)) for (const s of seats) expected.set(s, id);
  t.deepEqual(Object.fromEntries([...bySeat].map(([s, ids]) => [s, ids[0]])), Object.fromEntries(expected), 'active seats are exactly those of the 2xx bookings');
  // the rows are where the module's writes went (STORE_BOOKING pins it, else the phase decides)
  const writes = app.app.strangler.router.describe('booking').writes;
  const store = app.app.databases.forModule('booking').withSchema(writes === 'own' ? 'bookings' : app.app.config.LEGACY_SCHEMA).table('bookings');
  const rows = (await store.where({ showtime_id: showtimeId }).select('id')) as { id: string }[];
  t.deepEqual(rows.map((r) => r.id).sort(), [...race.created.keys()].sort(), 'refused requests left no booking rows');
  // the old free-seat counter, where the shared tables have the showtime: recounted after each commit
  // (ADR 0070), it ends at the theater's seats less the active ones
  const counter = (await app.app.databases.forRole('legacy', app.app.config.LEGACY_SCHEMA).from('showtimes as s').join('theaters as th', 'th.id', 's.theater_id')
    .where('s.id', showtimeId).first('s.available_seats', 'th.total_seats')) as { available_seats: number; total_seats: number } | undefined;
  if (writes === 'legacy' && counter) {
    const want = counter.total_seats - active.length;
    const got = await waitFor('available_seats recounted', async () => {
      const r = (await app.app.databases.forRole('legacy', app.app.config.LEGACY_SCHEMA).table('showtimes').where({ id: showtimeId }).first('available_seats')) as { available_seats: number };
      return r.available_seats === want ? r.available_seats : undefined;
    }, 10_000).catch(() => undefined);
    t.is(got, want, 'available_seats counts the seats not held or sold');
  }
  // BACKEND=postgres: no Redis, so no holds to compare; the database checks above are the invariant
  if (!app.app.redis) return;
  const keys: string[] = [];
  // this showtime's seat holds (the `{showtime}` hash tag is literal in a MATCH pattern) and its showtime lock
  const seatPattern = booking.admin.seatHoldKey(showtimeId, '*');
  for await (const batch of app.app.redis!.scanIterator({ MATCH: seatPattern, COUNT: 1000 })) keys.push(...batch);
  if (await app.app.redis!.exists(booking.admin.showtimeLockKey(showtimeId))) keys.push(booking.admin.showtimeLockKey(showtimeId));
  if (perSeat) {
    const holds = new Map<string, string>();
    for (const key of keys) holds.set(key, (await app.app.redis!.get(key)) ?? '');
    const wanted = new Map([...expected].map(([seat, id]) => [booking.admin.seatHoldKey(showtimeId, seat), id]));
    const actual = Object.fromEntries([...holds].filter(([, v]) => v !== ''));
    if (redisHolds === 'exact') t.deepEqual(actual, Object.fromEntries(wanted), 'Redis holds exactly the live bookings\' seats');
    else t.deepEqual(Object.entries(actual).filter(([k, v]) => wanted.get(k) !== v), [], 'every Redis hold belongs to a live booking of that seat');
  } else {
    t.deepEqual(keys, [], 'no lock outlives its request');
  }
}
