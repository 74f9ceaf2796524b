import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { api, startTestApp, TEST_INTERNAL_API_SECRET } from '../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers, type Catalog, type TestUser } from '../helpers/catalog.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createTestVhost, waitFor, type TestVhost } from '../helpers/events.ts';
import { setFlag, unleashTestEnv } from '../helpers/unleash.ts';

/**
 * One booking traced across two processes, each `node src/main.ts` as deployed: A hosts auth, movie and
 * booking; B hosts payment and notification and reaches auth over HTTP. Both export OTLP/HTTP JSON to a
 * collector stub here. The booking request's trace continues in B's handling of booking.created (the
 * traceparent rode in the event's metadata through A's outbox and relay); the payment request's trace
 * continues into A (auth's internal API over HTTP) and into A's handling of payment.completed. A third
 * process with tracing configured but `enable_tracing` off records nothing and writes no traceparent.
 */
const ROOT = new URL('../..', import.meta.url).pathname;
const SAGA_FLAGS = ['publish_booking_events', 'publish_payment_events', 'publish_seat_events', 'use_payment_events', 'consume_booking_events'];

interface OtlpSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
}

/** An OTLP/HTTP collector that keeps every span it is sent (JSON encoding, the exporter's default). */
function collector(): Promise<{ server: Server; url: string; spans: OtlpSpan[] }> {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const doc = JSON.parse(body) as { resourceSpans: { resource: { attributes: Attr[] }; scopeSpans: { spans: RawSpan[] }[] }[] };
      for (const rs of doc.resourceSpans) {
        const service = String(attrs(rs.resource.attributes)['service.name']);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) spans.push({ service, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId ?? '', name: s.name, kind: s.kind, attributes: attrs(s.attributes ?? []) });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, spans })));
}
interface Attr { key: string; value: Record<string, unknown> }
interface RawSpan { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; attributes?: Attr[] }
const attrs = (list: Attr[]) => Object.fromEntries(list.map((a) => [a.key, Object.values(a.value)[0]]));

interface AppProcess {
  url: string;
  /** its JSON log lines so far */
  logs: Record<string, unknown>[];
  /** SIGTERM; resolves once it exited (its spans are flushed by then) */
  stop(): Promise<void>;
}

async function spawnApp(env: Record<string, string>): Promise<AppProcess> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child: ChildProcess = spawn(process.execPath, ['src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '5000',
      INTERNAL_API_SECRET: TEST_INTERNAL_API_SECRET, REGISTER_MAX_PER_IP: '0', RECONCILE_INTERVAL_MS: '0', AUTO_ROLLBACK_CHECK_MS: '0',
      DB_POOL_MAX: '4', OTEL_BSP_SCHEDULE_DELAY: '200', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${env['MODULES']} ready`, async () => {
    if (child.exitCode !== null) throw new Error(`exited at start: ${stderr}`);
    return fetch(`${url}/health/ready`).then((r) => r.ok, () => false);
  }, 40_000);
  return { url, logs, stop: async () => void (child.exitCode === null && child.kill('SIGTERM'), await exited) };
}

let db: TestDatabase;
let vhost: TestVhost;
let otlp: Awaited<ReturnType<typeof collector>>;
let keysDir: string;
let catalog: Catalog;
let users: TestUser[];
let a: AppProcess;
let b: AppProcess;
let off: AppProcess;
const offApp = `bo-trace-off-${randomBytes(4).toString('hex')}`;

test.before(async () => {
  [db, vhost, otlp, keysDir] = await Promise.all([createTestDatabase(), createTestVhost(), collector(), mkdtemp(join(tmpdir(), 'bo-keys-'))]);
  // the catalog and users, made in this process on the same database and key ring
  const setup = await startTestApp({ db, env: { MODULES: 'auth,movie', JWT_KEYS_DIR: keysDir } });
  try {
    catalog = await createCatalog(setup, await adminToken(setup), { rows: 1, perRow: 6 });
    users = await forgeUsers(setup, 3);
  } finally {
    await setup.stop();
  }
  const shared = { DATABASE_URL: db.url, JWT_KEYS_DIR: keysDir, AMQP_URL: vhost.url, EVENTS_RELAY_POLL_MS: '100', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url };
  const flags = (tracing: boolean) => [...SAGA_FLAGS.map((f) => `${f}=true`), `enable_tracing=${tracing}`].join(',');
  [a, off] = await Promise.all([
    spawnApp({ ...shared, MODULES: 'auth,movie,booking', REDIS_KEY_PREFIX: `bo-trace-a-${randomBytes(3).toString('hex')}:`, FLAGS_BOOTSTRAP: flags(true) }),
    // tracing configured, the flag off and then flipped live in Unleash; a web process (no relay: A's
    // relay must be the one publishing A's events)
    spawnApp({ ...shared, ROLE: 'web', MODULES: 'auth,movie,booking', OTEL_SERVICE_NAME: 'boxoffice-flag-off', REDIS_KEY_PREFIX: `bo-trace-off-${randomBytes(3).toString('hex')}:`,
      UNLEASH_URL: unleashTestEnv().url, UNLEASH_API_TOKEN: unleashTestEnv().clientToken, UNLEASH_APP_NAME: offApp, UNLEASH_REFRESH_INTERVAL_MS: '200' }),
  ]);
  b = await spawnApp({ ...shared, MODULES: 'payment,notification', SERVICE_URL_AUTH: a.url, REDIS_KEY_PREFIX: `bo-trace-b-${randomBytes(3).toString('hex')}:`, FLAGS_BOOTSTRAP: flags(true) });
});

test.after.always(async () => {
  await Promise.allSettled([a?.stop(), b?.stop(), off?.stop()]);
  otlp?.server.close();
  await vhost?.drop();
  await db?.drop();
  await rm(keysDir, { recursive: true, force: true });
});

const pathOf = (s: OtlpSpan) => String(s.attributes['url.path'] ?? s.attributes['http.target'] ?? '');
const isQuery = (s: OtlpSpan) => s.name.startsWith('pg.query');
const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

test.serial('a booking is one trace from the request in A to the handling of its event in B; the payment continues into A', async (t) => {
  const user = users[0]!;
  const booking = await api(a.url, 'POST', '/api/v1/bookings', { token: user.token, body: { showtime_id: catalog.showtimeId, seat_ids: catalog.seatIds.slice(0, 2) } });
  t.is(booking.status, 201);
  const request = await waitFor('A\'s span of POST /api/v1/bookings', async () =>
    otlp.spans.find((s) => s.service === 'boxoffice-auth-movie-booking' && s.kind === SERVER && pathOf(s) === '/api/v1/bookings'));
  const trace = request.traceId;

  const consumed = await waitFor('B handling booking.created', async () =>
    otlp.spans.find((s) => s.name === 'process booking.created' && s.service === 'boxoffice-payment-notification'), 30_000);
  t.is(consumed.traceId, trace, 'B continues the booking request\'s trace');
  t.is(consumed.kind, CONSUMER);
  // each process exports in batches of its own: A's publish span may reach the collector after B's consumer span
  const inTrace = (what: string, match: (s: OtlpSpan) => boolean) => waitFor(what, async () => otlp.spans.some((s) => s.traceId === trace && match(s)) || undefined, 15_000);
  await inTrace('A\'s relay publish in the trace', (s) => s.name === 'publish booking.created' && s.service === 'boxoffice-auth-movie-booking');
  await inTrace('A\'s queries in the trace (pg instrumented under node src/main.ts)', (s) => s.service === 'boxoffice-auth-movie-booking' && isQuery(s) && Boolean(s.parentSpanId));
  await inTrace('B\'s handler queries as children of its consumer span', (s) => s.service === 'boxoffice-payment-notification' && isQuery(s) && s.parentSpanId === consumed.spanId);
  t.pass('A\'s publish, A\'s queries and B\'s handler queries are in the trace');
  t.true(a.logs.some((l) => l['msg'] === 'request' && l['path'] === '/api/v1/bookings' && l['trace_id'] === trace), 'A\'s access log line carries the trace id');

  // the payment: B's request → auth in A over HTTP (same trace) → payment.completed handled in A (same trace)
  const payment = await api(b.url, 'POST', '/api/v1/payments', {
    token: user.token, headers: { 'Idempotency-Key': randomUUID() }, body: { booking_id: booking.body.id, payment_method: { type: 'card', token: 'tok_success' } },
  });
  t.is(payment.status, 201, JSON.stringify(payment.body));
  const paid = await waitFor('B\'s span of POST /api/v1/payments', async () =>
    otlp.spans.filter((s) => s.service === 'boxoffice-payment-notification' && s.kind === SERVER && pathOf(s) === '/api/v1/payments').at(-1));
  const confirmed = await waitFor('A handling payment.completed', async () =>
    otlp.spans.find((s) => s.name === 'process payment.completed' && s.service === 'boxoffice-auth-movie-booking'), 30_000);
  t.is(confirmed.traceId, paid.traceId, 'the confirmation continues the payment request\'s trace');
  await waitFor('B\'s HTTP call to auth as a client span of the trace', async () => otlp.spans.some((s) => s.traceId === paid.traceId && s.service === 'boxoffice-payment-notification' && s.kind === CLIENT && !isQuery(s)) || undefined, 15_000);
  await waitFor('A serving that call in the same trace', async () => otlp.spans.some((s) => s.traceId === paid.traceId && s.service === 'boxoffice-auth-movie-booking' && s.kind === SERVER) || undefined, 15_000);
});

test.serial('with enable_tracing off nothing is recorded and events carry no traceparent; the flag turns it on and off live', async (t) => {
  const booking = await api(off.url, 'POST', '/api/v1/bookings', { token: users[1]!.token, body: { showtime_id: catalog.showtimeId, seat_ids: catalog.seatIds.slice(4, 6) } });
  t.is(booking.status, 201);
  const { Client } = (await import('pg')).default;
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    const rows = await client.query<{ envelope: { metadata: Record<string, unknown> } }>(`SELECT envelope FROM bookings.outbox WHERE envelope->'payload'->>'booking_id' = $1`, [booking.body.id]);
    t.true(rows.rows.length > 0);
    for (const r of rows.rows) t.false('traceparent' in r.envelope.metadata);
  } finally {
    await client.end();
  }
  const logged = (path: string) => off.logs.filter((l) => l['msg'] === 'request' && l['path'] === path);

  // on, live: requests are traced again, their queries included (the instrumentations patch pg again)
  await setFlag('enable_tracing', offApp, true);
  const read = `/api/v1/bookings/${booking.body.id}`; // a read that is never cached: it queries every time
  await waitFor('a traced request in the flipped process', async () =>
    (await api(off.url, 'GET', read, { token: users[1]!.token })).status === 200 && logged(read).some((l) => typeof l['trace_id'] === 'string'), 20_000);
  const traced = logged(read).find((l) => typeof l['trace_id'] === 'string')!['trace_id'];
  await waitFor('its query spans', async () => otlp.spans.some((s) => s.service === 'boxoffice-flag-off' && s.traceId === traced && isQuery(s)));

  // off again: nothing more
  await setFlag('enable_tracing', offApp, false);
  await waitFor('an untraced request again', async () =>
    (await api(off.url, 'GET', '/api/v1/movies')).status === 200 && logged('/api/v1/movies').some((l) => !('trace_id' in l)), 20_000);
  await off.stop(); // flushes whatever it had recorded
  const recorded = otlp.spans.filter((s) => s.service === 'boxoffice-flag-off' && s.kind === SERVER).map(pathOf);
  t.true(recorded.includes(read));
  t.false(recorded.includes('/api/v1/bookings'), 'nothing while the flag was off at first');
  t.false(logged('/api/v1/bookings').some((l) => 'trace_id' in l));
  const afterOff = logged('/api/v1/movies').filter((l) => !('trace_id' in l)).length;
  t.true(afterOff > 0);
  t.true(recorded.filter((p) => p === '/api/v1/movies').length <= logged('/api/v1/movies').length - afterOff, 'no request after the flag went off again was recorded');
});
