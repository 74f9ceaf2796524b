import { createServer, type Server } from 'node:http';
import test from 'ava';
import { z } from 'zod';
import { ServiceCredential } from '../../src/platform/auth/service-credential.ts';
import { ServiceUnavailableError } from '../../src/platform/errors.ts';
import { InternalClient } from '../../src/platform/http/internal-client.ts';
import { api, startTestApp, TEST_INTERNAL_API_SECRET } from '../helpers/app.ts';
import { adminToken, createCatalog } from '../helpers/catalog.ts';
import { waitFor } from '../helpers/events.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

/** A target that answers every request with `status` (or, `stall`, never answers) and counts requests by method. */
async function target(status: number, stall = false): Promise<{ url: string; hits: Record<string, number>; close(): Promise<void> }> {
  const hits: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    hits[req.method!] = (hits[req.method!] ?? 0) + 1;
    if (!stall) res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    hits,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

const ok = z.object({ ok: z.boolean() });
const credential = new ServiceCredential({ secret: TEST_INTERNAL_API_SECRET, caller: 'test' });

test('a GET that fails transiently is tried again (bounded); a POST is sent once', async (t) => {
  const down = await target(503);
  t.teardown(() => down.close());
  const client = new InternalClient({ target: 'movie', baseUrl: down.url, credential, retries: 2, circuitThreshold: 100 });
  const err = await t.throwsAsync(client.get('/internal/v1/movie/x', ok), { instanceOf: ServiceUnavailableError });
  t.regex(err!.message, /the movie service did not answer usably: answered 503/);
  t.is(down.hits['GET'], 3, 'one call and two retries');
  await t.throwsAsync(client.request('POST', '/internal/v1/movie/x', { body: {} }), { instanceOf: ServiceUnavailableError });
  t.is(down.hits['POST'], 1, 'a POST may have happened: never repeated');
});

test('an answer is not retried: 404 is undefined, a refused credential is a 503 naming the service', async (t) => {
  const missing = await target(404);
  const refused = await target(401);
  t.teardown(() => Promise.all([missing.close(), refused.close()]));
  t.is(await new InternalClient({ target: 'booking', baseUrl: missing.url, credential }).get('/internal/v1/booking/x', ok), undefined);
  t.is(missing.hits['GET'], 1);
  const err = await t.throwsAsync(new InternalClient({ target: 'booking', baseUrl: refused.url, credential }).get('/internal/v1/booking/x', ok), { instanceOf: ServiceUnavailableError });
  t.regex(err!.message, /booking service answered 401/);
  t.like((err as ServiceUnavailableError).extra, { service: 'booking' });
  t.is(refused.hits['GET'], 1);
});

test('each attempt has a deadline', async (t) => {
  const slow = await target(200, true);
  t.teardown(() => slow.close());
  const client = new InternalClient({ target: 'payment', baseUrl: slow.url, credential, timeoutMs: 200, retries: 0 });
  const t0 = Date.now();
  await t.throwsAsync(client.get('/internal/v1/payment/x', ok), { instanceOf: ServiceUnavailableError, message: /payment service did not answer/ });
  t.true(Date.now() - t0 < 2_000);
});

test('the circuit to a service opens while it is cut off (fast 503s, gauge, readiness body) and closes when it is back', async (t) => {
  const host = await startTestApp({ env: { ROLE: 'web', MODULES: 'auth,movie' } });
  t.teardown(() => host.stop());
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(host.url).port) });
  t.teardown(() => proxy.close());
  const split = await startTestApp({
    db: host.db,
    env: {
      ROLE: 'web', MODULES: 'auth,booking', SERVICE_URL_MOVIE: `http://127.0.0.1:${proxy.port}`,
      INTERNAL_CIRCUIT_THRESHOLD: '2', INTERNAL_CIRCUIT_HALF_OPEN_MS: '300', INTERNAL_HTTP_RETRIES: '0', INTERNAL_HTTP_TIMEOUT_MS: '1000',
    },
  });
  t.teardown(() => split.stop());
  const c = await createCatalog(host, await adminToken(host), { rows: 1, perRow: 1 });
  const movie = split.app.facades.movie!;
  const gauge = async () => /internal_circuit_state\{target="movie"\} (\d)/.exec((await api(split.url, 'GET', '/metrics')).body)?.[1];

  t.is((await movie.getShowtimeSnapshot(c.showtimeId))?.showtime_id, c.showtimeId);
  t.is(await gauge(), '0');
  await proxy.cut();
  for (let i = 0; i < 2; i++) await t.throwsAsync(movie.getShowtimeSnapshot(c.showtimeId), { instanceOf: ServiceUnavailableError, message: /movie service did not answer/ });
  await t.throwsAsync(movie.getShowtimeSnapshot(c.showtimeId), { instanceOf: ServiceUnavailableError, message: /movie service is unavailable \(circuit open/ });
  t.is(await gauge(), '2');
  const ready = await api(split.url, 'GET', '/health/ready');
  t.is(ready.status, 200, 'an open circuit is reported, not a reason to leave the load balancer');
  t.like(ready.body.checks['service:movie'], { status: 'degraded' });
  t.regex(ready.body.checks['service:movie'].error, /circuit open/);

  await proxy.restore();
  await waitFor('the circuit closes once movie answers again', async () => (await movie.getShowtimeSnapshot(c.showtimeId).catch(() => undefined)) !== undefined);
  t.is(await gauge(), '0');
  t.like((await api(split.url, 'GET', '/health/ready')).body.checks['service:movie'], { status: 'ok' });
});

test('a process without INTERNAL_API_SECRET gets a 503 naming the service, and calls nothing', async (t) => {
  const up = await target(200);
  t.teardown(() => up.close());
  const client = new InternalClient({ target: 'booking', baseUrl: up.url, credential: new ServiceCredential({ secret: undefined, caller: 'payment' }) });
  await t.throwsAsync(client.get('/internal/v1/booking/x', ok), { instanceOf: ServiceUnavailableError, message: /booking service cannot be called: INTERNAL_API_SECRET/ });
  t.is(up.hits['GET'], undefined);
});
