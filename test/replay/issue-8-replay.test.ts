import { randomBytes } from 'node:crypto';
import test from 'ava';
import { api, newUser, startTestApp, type TestApp } from '../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers, type Catalog } from '../helpers/catalog.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { activeKey, goodClaims, signRs256 } from '../helpers/tokens.ts';
import { json, Replayer, routesOf, type ReplayRequest } from './replay-helpers.ts';

/**
 * Issue 8's sweep, replayed against a running app with the product's defaults: every request the issue
 * lists, then each route with bad path values, bad bodies, undecodable encodings and unrouted methods.
 * Nothing may answer 5xx or log at error level; each listed request gets the answer the issue asks for.
 * Serial: the last test reads what all the others sent.
 */
const logs = captureLogs('info');
const METRICS_TOKEN = `metrics-${randomBytes(12).toString('hex')}`;
let t0: TestApp;
let r: Replayer;
let admin: string;
let user: string;
let c: Catalog;
const someone = () => `192.0.2.${1 + Math.floor(Math.random() * 250)}`;
test.before(async () => {
  t0 = await startTestApp({
    logger: logs.logger,
    // the product's defaults, except: /metrics behind a token (as production must be) and client
    // addresses from X-Forwarded-For, so the replay can be many people
    env: { TRUST_PROXY: 'true', METRICS_TOKEN, REGISTER_MAX_PER_IP: '10' },
  });
  r = new Replayer(t0.url);
  admin = await adminToken(t0);
  const owner = newUser('owner');
  await api(t0.url, 'POST', '/api/v1/auth/register', { body: owner, headers: { 'x-forwarded-for': '192.0.2.251' } });
  user = (await api(t0.url, 'POST', '/api/v1/auth/login', { body: { email: owner.email, password: owner.password } })).body.access_token;
  c = await createCatalog(t0, admin, { rows: 2, perRow: 29 }); // 58 seats, as in the issue
});
test.after.always(async () => {
  await t0?.stop();
});

const NUL = 'a\u0000b';
const expectStatus = (t: { is: (a: unknown, b: unknown, m?: string) => void }, got: { status: number; name: string; body: string }, want: number) =>
  t.is(got.status, want, `${got.name}: ${got.body.slice(0, 300)}`);

test.serial('defect 1: NUL bytes → 422 naming the field, without logging in', async (t) => {
  const booking = await r.send({ name: 'a booking to cancel', method: 'POST', path: '/api/v1/bookings', token: user, json: { showtime_id: c.showtimeId, seat_ids: [c.seatIds[57]] } });
  const cases: [ReplayRequest, string][] = [
    [{ name: 'movies ?q=%00', method: 'GET', path: '/api/v1/movies?q=%00' }, 'query.q'],
    [{ name: 'login email with NUL', method: 'POST', path: '/api/v1/auth/login', json: { email: 'a\u0000b@x.com', password: 'x' } }, 'email'],
    [{ name: 'register full_name with NUL', method: 'POST', path: '/api/v1/auth/register', json: { ...newUser(), full_name: NUL } }, 'full_name'],
    [{ name: 'theaters ?city=%00', method: 'GET', path: '/api/v1/theaters?city=%00' }, 'query.city'],
    [{ name: 'movies ?genre=a%00b', method: 'GET', path: '/api/v1/movies?genre=a%00b' }, 'query.genre'],
    [{ name: 'movie write', method: 'POST', path: '/api/v1/movies', token: admin, json: { title: NUL, duration_minutes: 90 } }, 'title'],
    [{ name: 'movie patch', method: 'PATCH', path: `/api/v1/movies/${c.movieId}`, token: admin, json: { genre: NUL } }, 'genre'],
    [{ name: 'theater write', method: 'POST', path: '/api/v1/theaters', token: admin, json: { name: NUL, layout: { rows: [{ row: 'A', seats: 1 }] } } }, 'name'],
    [{ name: 'theater patch', method: 'PATCH', path: `/api/v1/theaters/${c.theaterId}`, token: admin, json: { city: NUL } }, 'city'],
    [{ name: 'showtime cancel reason', method: 'POST', path: `/api/v1/showtimes/${c.showtimeId}/cancel`, token: admin, json: { reason: NUL } }, 'reason'],
    [{ name: 'booking cancel reason', method: 'POST', path: `/api/v1/bookings/${json(booking)['id']}/cancel`, token: user, json: { reason: NUL } }, 'reason'],
  ];
  for (const [request, field] of cases) {
    const res = await r.send(request);
    expectStatus(t, res, 422);
    t.deepEqual(json(res)['errors']?.map((e: { field: string }) => e.field), [field], request.name);
  }
  const form = await r.send({ name: '/admin/login form with NUL', method: 'POST', path: '/admin/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, raw: 'email=a%00b%40x.com&password=x' });
  expectStatus(t, form, 422);
  t.regex(form.body, /email: must not contain a NUL/);
});

test.serial('defect 2: undecodable Content-Encoding on every JSON POST/PATCH → 400; one we do not take → 415', async (t) => {
  const writes = routesOf(t0.app.host.routers() as never).filter((x) => x.method === 'POST' || x.method === 'PATCH');
  t.true(writes.length >= 15, `${writes.length} write routes`);
  for (const { method, path } of writes) {
    const at = path.replace(/:id/g, c.showtimeId);
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const res = await r.send({ name: `${encoding} garbage → ${method} ${path}`, method, path: at, token: admin, headers: { 'content-type': 'application/json', 'content-encoding': encoding }, raw: 'garbage' });
      // a form path (the admin pages) checks its origin first; every answer is the client's fault
      t.true(res.status === 400 || (path.startsWith('/admin') && res.status === 415), `${res.name}: ${res.status} ${res.body.slice(0, 200)}`);
    }
    const zstd = await r.send({ name: `zstd → ${method} ${path}`, method, path: at, token: admin, headers: { 'content-type': 'application/json', 'content-encoding': 'zstd' }, raw: 'x' });
    t.true([415, 403].includes(zstd.status), `${zstd.name}: ${zstd.status}`);
  }
});

test.serial('defects 3, 4, 7: money, dates and links bounded by the stores', async (t) => {
  const showtime = (name: string, body: Record<string, unknown>) =>
    r.send({ name, method: 'POST', path: '/api/v1/showtimes', token: admin, json: { movie_id: c.movieId, theater_id: c.theaterId, start_time: '2033-01-01T10:00:00Z', base_price: '1', ...body } });
  expectStatus(t, await showtime('base_price "100000000"', { base_price: '100000000' }), 422);
  expectStatus(t, await showtime('a showtime at 0000-01-01T00:00:00Z', { start_time: '0000-01-01T00:00:00Z' }), 422);
  expectStatus(t, await showtime('a showtime in the past', { start_time: '2020-01-01T10:00:00Z' }), 422);
  const movie = (name: string, body: Record<string, unknown>) => r.send({ name, method: 'POST', path: '/api/v1/movies', token: admin, json: { title: 'Replay', duration_minutes: 90, ...body } });
  expectStatus(t, await movie('release_date 0000-01-01', { release_date: '0000-01-01' }), 422);
  for (const poster_url of ['javascript:alert(1)', 'file:///etc/passwd']) expectStatus(t, await movie(`poster_url ${poster_url}`, { poster_url }), 422);
  const dear = await createCatalog(t0, admin, { rows: 1, perRow: 2, basePrice: '99999999.99' });
  const total = await r.send({ name: 'a user books 2 seats of a 99999999.99 showtime', method: 'POST', path: '/api/v1/bookings', token: user, json: { showtime_id: dear.showtimeId, seat_ids: dear.seatIds } });
  expectStatus(t, total, 422);
  t.is(json(total)['type'], 'urn:boxoffice:problem:booking-total-too-large');
});

test.serial('defects 5, 6, 8: unrouted methods, token claims, __proto__, form limit, long emails', async (t) => {
  for (const method of ['TRACE', 'PROPFIND', 'MKCOL', 'PURGE']) {
    const res = await r.send({ name: `${method} /api/v1/movies`, method, path: '/api/v1/movies' });
    expectStatus(t, res, 405);
    t.is(res.headers['allow'], 'HEAD, GET, POST');
  }
  const key = activeKey(t0.env['JWT_KEYS_DIR']!);
  const token = signRs256({ kid: key.kid }, goodClaims('not-a-uuid', 'x@example.com'), key.privateKey);
  for (const path of ['/api/v1/auth/me', '/api/v1/bookings']) expectStatus(t, await r.send({ name: `sub not a UUID → ${path}`, method: 'GET', path, token }), 401);
  const proto = await r.send({ name: '__proto__ key', method: 'POST', path: '/api/v1/auth/login', headers: { 'content-type': 'application/json' }, raw: '{"__proto__":{"isAdmin":true}}' });
  expectStatus(t, proto, 400);
  t.regex(json(proto)['detail'], /__proto__/);
  const form = await r.send({ name: 'admin form over 16kb', method: 'POST', path: '/admin/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, raw: `email=${'a'.repeat(20_000)}` });
  expectStatus(t, form, 413);
  t.regex(json(form)['detail'], /16kb/);
  expectStatus(t, await r.send({ name: 'email local part 65', method: 'POST', path: '/api/v1/auth/register', from: someone(), json: { ...newUser(), email: `${'a'.repeat(65)}@example.com` } }), 422);
});

test.serial('abuse: seat hoarding, registration bursts, lockout as a weapon, internals on the public port', async (t) => {
  const [hoarder] = await forgeUsers(t0, 1);
  const free = c.seatIds.slice(0, 57); // the first test's booking holds the last seat
  const hoard = [];
  for (let i = 0; i < 6; i++) {
    hoard.push(await r.send({ name: `hoarder request ${i + 1}`, method: 'POST', path: '/api/v1/bookings', token: hoarder!.token, json: { showtime_id: c.showtimeId, seat_ids: free.slice(i * 10, i * 10 + 10) } }));
  }
  t.deepEqual(hoard.map((h) => h.status), [201, 409, 409, 409, 409, 409]);
  t.is(json(hoard[1]!)['limit'], 'pending_seats_per_showtime');
  t.is((await t0.app.booking!.admin.activeSeats(c.showtimeId)).length, 11, "the hoarder's 10 and the owner's 1");

  const burst = await r.all(Array.from({ length: 19 }, (_, i) => ({ name: `burst registration ${i + 1}`, method: 'POST', path: '/api/v1/auth/register', from: '192.0.2.252', json: newUser('burst') })));
  t.deepEqual(burst.map((b) => b.status), [...Array<number>(10).fill(201), ...Array<number>(9).fill(429)]);

  const email = `boss-${randomBytes(3).toString('hex')}@example.com`;
  await t0.app.auth!.admin.createAdmin({ email, password: 'Adm1n-long-secret' });
  for (let i = 0; i < 5; i++) await r.send({ name: `stranger guesses the admin's password ${i + 1}`, method: 'POST', path: '/api/v1/auth/login', from: '192.0.2.253', json: { email, password: `guess-${i}-Passw0rd` } });
  expectStatus(t, await r.send({ name: 'the admin logs in after the stranger', method: 'POST', path: '/api/v1/auth/login', from: '192.0.2.254', json: { email, password: 'Adm1n-long-secret' } }), 200);

  expectStatus(t, await r.send({ name: 'anonymous /metrics', method: 'GET', path: '/metrics' }), 401);
  for (const what of ['snapshot', 'layout']) {
    expectStatus(t, await r.send({ name: `anonymous internal ${what}`, method: 'GET', path: `/internal/v1/movie/showtimes/${c.showtimeId}/${what}` }), 401);
  }
});

test.serial('every route with bad path values, bad bodies and stray methods: 4xx, never 5xx', async (t) => {
  const values = ['%00', 'not-a-uuid', '00000000-0000-4000-8000-000000000000', 'a'.repeat(300), '%ff%fe', '..%2f..%2fetc%2fpasswd'];
  const bodies = ['{}', '[]', '"text"', 'null', '{"x":"\\u0000"}', '{"limit":1e309}', '{"seat_ids":{"length":1e9}}'];
  for (const { method, path } of routesOf(t0.app.host.routers() as never)) {
    for (const value of values) {
      const at = path.replace(/:id/g, value);
      const send = (m: string, extra: Partial<ReplayRequest> = {}) => r.send({ name: `${m} ${path} (${value})`, method: m, path: at, token: admin, ...extra });
      if (method === 'GET') await send('GET', { path: `${at}?limit=-1&offset=1e309&q=%00&genre=%ff&date=0000-00-00&movie_id=%00` });
      else for (const raw of bodies) await send(method, { headers: { 'content-type': 'application/json' }, raw });
      for (const stray of ['TRACE', 'PROPFIND', 'DELETE', 'PUT']) await send(stray);
      if (!path.includes(':id')) break;
    }
  }
  t.deepEqual(r.serverErrors().map((x) => `${x.status} ${x.name}`), []);
});

test.serial('the whole replay: no 5xx answered, none counted in /metrics, no error-level log line', async (t) => {
  const statuses = new Map<number, number>();
  for (const x of r.log) statuses.set(x.status, (statuses.get(x.status) ?? 0) + 1);
  t.log(`${r.log.length} requests; by status: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(' ')}`);
  t.true(r.log.length > 500, String(r.log.length));
  t.deepEqual(r.serverErrors().map((x) => `${x.status} ${x.name}`), []);
  const metrics = await api(t0.url, 'GET', '/metrics', { token: METRICS_TOKEN });
  t.is(metrics.status, 200);
  t.notRegex(metrics.body, /http_request_duration_seconds_count\{[^}]*status="5\d\d"\}/);
  t.deepEqual(logs.atLeast('error').map((l) => l.msg), []);
});
