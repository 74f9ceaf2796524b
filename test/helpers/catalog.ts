import { randomBytes, randomUUID } from 'node:crypto';
import { api, type TestApp } from './app.ts';
import { activeKey, goodClaims, signRs256 } from './tokens.ts';

/** An admin account made through the auth module, signed in over HTTP. */
export async function adminToken(t: TestApp): Promise<string> {
  const email = `admin-${randomBytes(4).toString('hex')}@example.com`;
  const password = `Adm1n-${randomBytes(6).toString('hex')}`;
  await t.app.auth!.admin.createAdmin({ email, password });
  const login = await api(t.url, 'POST', '/api/v1/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`admin login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return login.body.access_token as string;
}

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

/**
 * Many users at once without hashing passwords: rows in the legacy users table (booking's legacy store
 * references them), tokens signed with the app's real key.
 */
export async function forgeUsers(t: TestApp, n: number): Promise<TestUser[]> {
  const key = activeKey(t.env['JWT_KEYS_DIR']!);
  const users = Array.from({ length: n }, () => {
    const id = randomUUID();
    const email = `u-${id.slice(0, 8)}@example.com`;
    return { id, email, token: signRs256({ kid: key.kid }, goodClaims(id, email, { exp: Math.floor(Date.now() / 1000) + 3600 }), key.privateKey) };
  });
  const legacy = t.app.databases.forRole('legacy', 'public');
  for (let i = 0; i < users.length; i += 500) {
    await legacy.table('users').insert(users.slice(i, i + 500).map((u) => ({ id: u.id, email: u.email, hashed_password: 'x', full_name: 'Load Test' })));
  }
  return users;
}

export interface Catalog {
  movieId: string;
  theaterId: string;
  showtimeId: string;
  seatIds: string[];
  seats: { id: string; row: string; number: number; type: string }[];
}

const ROWS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A movie, a theater of rows × perRow seats, and one showtime in the future — over the HTTP API. */
export async function createCatalog(
  t: TestApp,
  token: string,
  options: { rows?: number; perRow?: number; basePrice?: string | number; startInHours?: number; types?: Record<string, string>; tierPrices?: Record<string, string> } = {},
): Promise<Catalog> {
  const rows = options.rows ?? 3;
  const perRow = options.perRow ?? 10;
  const movie = await api(t.url, 'POST', '/api/v1/movies', { token, body: { title: `Film ${randomBytes(4).toString('hex')}`, duration_minutes: 120, genre: 'Drama' } });
  if (movie.status !== 201) throw new Error(`movie: ${movie.status} ${JSON.stringify(movie.body)}`);
  const layout = { rows: Array.from({ length: rows }, (_, i) => ({ row: ROWS[i]!, seats: perRow, type: options.types?.[ROWS[i]!] ?? 'standard' })) };
  const theater = await api(t.url, 'POST', '/api/v1/theaters', { token, body: { name: `Screen ${randomBytes(3).toString('hex')}`, city: 'Hanoi', layout } });
  if (theater.status !== 201) throw new Error(`theater: ${theater.status} ${JSON.stringify(theater.body)}`);
  const start = new Date(Date.now() + (options.startInHours ?? 48) * 3600_000 + Math.floor(Math.random() * 1e6) * 60_000);
  const showtime = await api(t.url, 'POST', '/api/v1/showtimes', {
    token,
    body: {
      movie_id: movie.body.id, theater_id: theater.body.id, start_time: start.toISOString(), base_price: options.basePrice ?? '90000',
      ...(options.tierPrices ? { tier_prices: options.tierPrices } : {}),
    },
  });
  if (showtime.status !== 201) throw new Error(`showtime: ${showtime.status} ${JSON.stringify(showtime.body)}`);
  const seats = theater.body.seats as Catalog['seats'];
  return { movieId: movie.body.id, theaterId: theater.body.id, showtimeId: showtime.body.id, seats, seatIds: seats.map((s) => s.id) };
}
