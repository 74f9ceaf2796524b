import { request } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import test from 'ava';
import { api, registerAndLogin, startTestApp, type TestApp } from '../helpers/app.ts';
import { adminToken, createCatalog, type Catalog } from '../helpers/catalog.ts';
import { captureLogs } from '../helpers/log-capture.ts';

// Regression tests for the bad-input sweep of issue 8: each answer is a 4xx that says what is wrong.
// Serial: the last test reads what the others left in the log.
const logs = captureLogs('info');
let t0: TestApp;
let admin: string;
let user: string;
let catalog: Catalog;
test.before(async () => {
  t0 = await startTestApp({ logger: logs.logger });
  admin = await adminToken(t0);
  user = (await registerAndLogin(t0.url)).access;
  catalog = await createCatalog(t0, admin, { rows: 1, perRow: 4 });
});
test.after.always(async () => {
  await t0?.stop();
});

/** Any method, any body bytes (fetch refuses TRACE and friends). */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = request(`${t0.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const NUL = 'a\u0000b';

test.serial('a NUL byte in any text is a 422 naming the field — query strings, bodies, forms, without logging in', async (t) => {
  const booking = await api(t0.url, 'POST', '/api/v1/bookings', { token: user, body: { showtime_id: catalog.showtimeId, seat_ids: [catalog.seatIds[0]] } });
  t.is(booking.status, 201);
  const cases: [string, string, { body?: unknown; token?: string }, string][] = [
    ['GET', '/api/v1/movies?q=%00', {}, 'query.q'],
    ['GET', '/api/v1/movies?genre=a%00b', {}, 'query.genre'],
    ['GET', '/api/v1/theaters?city=%00', {}, 'query.city'],
    ['POST', '/api/v1/auth/login', { body: { email: 'a\u0000b@x.com', password: 'whatever-1' } }, 'email'],
    ['POST', '/api/v1/auth/register', { body: { email: 'nul@example.com', password: 'Str0ng-pass-1', full_name: NUL } }, 'full_name'],
    ['POST', '/api/v1/movies', { token: admin, body: { title: NUL, duration_minutes: 90 } }, 'title'],
    ['PATCH', `/api/v1/movies/${catalog.movieId}`, { token: admin, body: { description: NUL } }, 'description'],
    ['POST', '/api/v1/theaters', { token: admin, body: { name: 'Hall', city: NUL, layout: { rows: [{ row: 'A', seats: 1 }] } } }, 'city'],
    ['PATCH', `/api/v1/theaters/${catalog.theaterId}`, { token: admin, body: { name: NUL } }, 'name'],
    ['POST', `/api/v1/showtimes/${catalog.showtimeId}/cancel`, { token: admin, body: { reason: NUL } }, 'reason'],
    ['POST', `/api/v1/bookings/${booking.body.id}/cancel`, { token: user, body: { reason: NUL } }, 'reason'],
    ['POST', '/api/v1/auth/login', { body: { email: 'ok@example.com', password: 'x', [NUL]: 1 } }, 'a\\u0000b'],
  ];
  for (const [method, path, options, field] of cases) {
    const res = await api(t0.url, method, path, options);
    t.is(res.status, 422, `${method} ${path}: ${JSON.stringify(res.body)}`);
    t.is(res.body.type, 'urn:boxoffice:problem:validation-error');
    t.deepEqual(res.body.errors.map((e: { field: string }) => e.field), [field], path);
  }
  const form = await raw('POST', '/admin/login', { 'content-type': 'application/x-www-form-urlencoded' }, 'email=a%00b%40x.com&password=x');
  t.is(form.status, 422);
  t.regex(form.body, /email: must not contain a NUL character/);
  // the cancel reasons were refused before anything changed
  t.is((await api(t0.url, 'GET', `/api/v1/bookings/${booking.body.id}`, { token: user })).body.status, 'pending');
});

test.serial('an undecodable Content-Encoding is a 400, an encoding we do not take a 415 naming the ones we do', async (t) => {
  const json = { 'content-type': 'application/json' };
  for (const encoding of ['gzip', 'deflate', 'br']) {
    for (const [method, path, token] of [['POST', '/api/v1/auth/register', ''], ['POST', '/api/v1/movies', admin], ['PATCH', `/api/v1/movies/${catalog.movieId}`, admin]] as const) {
      const res = await raw(method, path, { ...json, 'content-encoding': encoding, ...(token ? { authorization: `Bearer ${token}` } : {}) }, 'garbage');
      t.is(res.status, 400, `${encoding} ${method} ${path}: ${res.body}`);
      t.is(JSON.parse(res.body).type, 'urn:boxoffice:problem:undecodable-body');
    }
  }
  const unsupported = await raw('POST', '/api/v1/auth/login', { ...json, 'content-encoding': 'zstd' }, 'garbage');
  t.is(unsupported.status, 415);
  t.is(JSON.parse(unsupported.body).type, 'urn:boxoffice:problem:unsupported-content-encoding');
  t.is(unsupported.headers['accept-encoding'], 'gzip, deflate, br');
  // the accepted encodings still work
  const login = Buffer.from(JSON.stringify({ email: 'nobody@example.com', password: 'Wr0ng-pass' }));
  for (const [encoding, bytes] of [['gzip', gzipSync(login)], ['deflate', deflateSync(login)], ['br', brotliCompressSync(login)]] as const) {
    const res = await raw('POST', '/api/v1/auth/login', { ...json, 'content-encoding': encoding }, bytes);
    t.is(res.status, 401, `${encoding}: ${res.body}`);
  }
});

test.serial('unrouted methods are 405 with Allow (404 off any route), counted and logged as client errors', async (t) => {
  for (const method of ['TRACE', 'PROPFIND', 'MKCOL', 'LOCK']) {
    const known = await raw(method, '/api/v1/movies');
    t.is(known.status, 405, method);
    t.is(known.headers['allow'], 'HEAD, GET, POST');
    t.is(JSON.parse(known.body).type, 'urn:boxoffice:problem:method-not-allowed');
    const unknown = await raw(method, '/no/such/path');
    t.is(unknown.status, 404, method);
    t.is(unknown.headers['allow'], undefined);
  }
  const metrics = await api(t0.url, 'GET', '/metrics');
  t.regex(metrics.body, /http_request_duration_seconds_count\{method="TRACE",route="unmatched",status="405"\}/);
  t.notRegex(metrics.body, /http_request_duration_seconds_count\{[^}]*status="5\d\d"\}/);
  t.deepEqual(logs.atLeast('error').filter((l) => ['TRACE', 'PROPFIND'].includes(String(l['method']))), []);
});

test.serial('a __proto__ key is refused as what it is; a form too large names the form limit; over-long emails are refused', async (t) => {
  const json = { 'content-type': 'application/json' };
  for (const body of ['{"__proto__":{"admin":true},"email":"a@b.c","password":"x"}', '{"email":"a@b.c","x":[{"\\u005f_proto__":{}}]}']) {
    const res = await raw('POST', '/api/v1/auth/login', json, body);
    t.is(res.status, 400, body);
    t.is(JSON.parse(res.body).type, 'urn:boxoffice:problem:forbidden-json-key');
    t.regex(JSON.parse(res.body).detail, /__proto__/);
  }
  const form = await raw('POST', '/admin/login', { 'content-type': 'application/x-www-form-urlencoded' }, `email=${'a'.repeat(20_000)}`);
  t.is(form.status, 413);
  t.is(JSON.parse(form.body).limit, '16kb');
  const json413 = await raw('POST', '/api/v1/auth/login', json, JSON.stringify({ email: 'a'.repeat(200_000) }));
  t.is(json413.status, 413);
  t.is(JSON.parse(json413.body).limit, '100kb');
  const local65 = await api(t0.url, 'POST', '/api/v1/auth/register', { body: { email: `${'a'.repeat(65)}@example.com`, password: 'Str0ng-pass-1', full_name: 'X' } });
  t.is(local65.status, 422);
  t.is(local65.body.errors[0].field, 'email');
  const total258 = await api(t0.url, 'POST', '/api/v1/auth/register', { body: { email: `${'a'.repeat(10)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.com`, password: 'Str0ng-pass-1', full_name: 'X' } });
  t.is(total258.status, 422);
});

test.serial('nothing above reached a 5xx or an error-level log line', (t) => {
  t.deepEqual(logs.atLeast('error'), []);
});
