import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import test from 'ava';
import { ROUTED_HEADER, routingSubject } from '../../src/migration/extraction/route-proxy.ts';
import { api, startTestApp, type TestApp } from '../helpers/app.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { goodClaims, signHs256 } from '../helpers/tokens.ts';

/**
 * The routing step on its own, against a stand-in for the booking deployment (an HTTP server that records
 * what reaches it): what passes through, what an unreachable or slow service answers, and that a routed
 * request is never routed on. Real deployments on both sides: test/migration/extraction-*.test.ts.
 */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  bodySha: string;
  bodyBytes: number;
}

let upstream: Server;
let seen: Seen[] = [];
let stall = false;
let monolith: TestApp;
/** refuses connections for the whole run: a closed `freePort()` can be taken by another test file's server meanwhile */
const deadPort = 1;
const logs = captureLogs('info');

test.before(async () => {
  upstream = createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (c: Buffer) => ((bytes += c.length), hash.update(c)));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, bodySha: hash.digest('hex'), bodyBytes: bytes });
      if (stall) return; // never answers: the proxy's timeout must
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'content-type': 'application/json', 'x-served-by': 'booking-stub', 'set-cookie': ['a=1', 'b=2'] });
      res.end(JSON.stringify({ ok: true, path: req.url }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const upstreamPort = (upstream.address() as { port: number }).port;
  monolith = await startTestApp({
    logger: logs.logger,
    env: {
      // booking and payment are not hosted here, and EXTRACTED (flag on for everyone): their routes go to their deployments
      MODULES: 'auth,movie,notification',
      FLAGS_BOOTSTRAP: 'route_booking_to_service=true,route_payment_to_service=true',
      SERVICE_URL_BOOKING: `http://127.0.0.1:${upstreamPort}`,
      SERVICE_URL_PAYMENT: `http://127.0.0.1:${deadPort}`,
      ROUTE_PROXY_TIMEOUT_MS: '400',
      BODY_LIMIT: '100kb',
    },
  });
});
test.after.always(async () => {
  await monolith?.stop();
  upstream?.closeAllConnections();
  await new Promise((r) => upstream?.close(r));
});
test.beforeEach(() => {
  seen = [];
  stall = false;
});

test.serial('a routed request arrives whole: method, path and query, Authorization, correlation id, client address; the answer comes back as sent', async (t) => {
  const correlation = `corr-${randomBytes(4).toString('hex')}`;
  const token = signHs256({}, goodClaims(randomUUID(), 'x@example.com'), 'whatever-0123456789-0123456789-0123');
  const res = await api(monolith.url, 'GET', '/api/v1/bookings?limit=5&offset=0', { token, headers: { 'x-correlation-id': correlation, 'x-forwarded-for': '203.0.113.9' } });
  t.is(res.status, 200);
  t.deepEqual(res.body, { ok: true, path: '/api/v1/bookings?limit=5&offset=0' });
  t.is(res.headers.get('x-served-by'), 'booking-stub');
  t.is(res.headers.get('x-correlation-id'), correlation);
  t.deepEqual(res.headers.getSetCookie(), ['a=1', 'b=2']);
  t.is(seen.length, 1);
  const h = seen[0]!.headers;
  t.is(h['authorization'], `Bearer ${token}`);
  t.is(h['x-correlation-id'], correlation);
  // the monolith does not trust proxies here: the caller's own X-Forwarded-For is not passed on as the client
  t.is(h['x-forwarded-for'], '127.0.0.1');
  t.is(h[ROUTED_HEADER], 'booking');
  const line = logs.lines.find((l) => l['correlation_id'] === correlation && l.msg === 'request');
  t.like(line, { routed_to: 'booking-service', status: 200, path: '/api/v1/bookings' });
});

test.serial('a request body streams through unread and unlimited by the monolith (the service applies its own limit)', async (t) => {
  const body = randomBytes(600_000).toString('base64'); // 800 KB: over the monolith's own 100kb JSON limit
  const res = await fetch(`${monolith.url}/api/v1/bookings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ blob: body }) });
  t.is(res.status, 201);
  t.is(seen.length, 1);
  t.is(seen[0]!.bodyBytes, Buffer.byteLength(JSON.stringify({ blob: body })));
  t.is(seen[0]!.bodySha, createHash('sha256').update(JSON.stringify({ blob: body })).digest('hex'));
});

test.serial('only the module\'s own paths are routed: a near miss and the platform\'s paths stay here', async (t) => {
  t.is((await api(monolith.url, 'GET', '/api/v1/bookingsx')).status, 404);
  t.is((await api(monolith.url, 'GET', '/health')).status, 200);
  t.is((await api(monolith.url, 'GET', '/api/v1/movies')).status, 200);
  t.is(seen.length, 0);
});

test.serial('a service that does not answer is a 502 problem naming the module; a slow one a 504', async (t) => {
  const down = await api(monolith.url, 'GET', '/api/v1/payments/00000000-0000-4000-8000-000000000000');
  t.is(down.status, 502);
  t.like(down.body, { type: 'urn:boxoffice:problem:bad-gateway', module: 'payment' });
  t.regex(down.body.detail, /payment service did not answer/);
  t.truthy(down.headers.get('retry-after'));
  stall = true;
  const slow = await api(monolith.url, 'GET', '/api/v1/bookings');
  t.is(slow.status, 504);
  t.like(slow.body, { type: 'urn:boxoffice:problem:gateway-timeout', module: 'booking' });
  const metrics = await (await fetch(`${monolith.url}/metrics`)).text();
  t.regex(metrics, /boxoffice_route_proxied_total\{module="payment",outcome="unreachable"\} [1-9]/);
  t.regex(metrics, /boxoffice_route_proxied_total\{module="booking",outcome="timeout"\} [1-9]/);
});

test.serial('a request that was already routed is served where it landed, never sent round again', async (t) => {
  const res = await api(monolith.url, 'GET', '/api/v1/bookings', { headers: { [ROUTED_HEADER]: 'booking' } });
  t.is(res.status, 404, 'booking is not hosted here, and the request is not routed a second time');
  t.is(seen.length, 0);
});

test('the routing subject is the token\'s sub, read without verifying; anything else has none', (t) => {
  const id = randomUUID();
  t.is(routingSubject(`Bearer ${signHs256({}, goodClaims(id, 'a@example.com'), 'k'.repeat(32))}`), id);
  t.is(routingSubject(undefined), undefined);
  t.is(routingSubject('Bearer not-a-token'), undefined);
  t.is(routingSubject(`Bearer a.${Buffer.from('{"sub":42}').toString('base64url')}.b`), undefined);
  t.is(routingSubject(`Bearer a.${Buffer.from('not json').toString('base64url')}.b`), undefined);
});
