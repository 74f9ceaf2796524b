import test from 'ava';
import { createClient } from 'redis';
import { loadConfig } from '../../src/platform/config.ts';
import { ioredisOptions, nodeRedisOptions, parseSentinels } from '../../src/platform/redis-options.ts';
import { api, startTestApp } from '../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers } from '../helpers/catalog.ts';

const SOCKET = { connectTimeout: 3_000, reconnectStrategy: () => 100 };

test('<MODULE>_REDIS_URL overrides REDIS_URL for that module only', (t) => {
  const config = loadConfig({ REDIS_URL: 'redis://shared:6379', BOOKING_REDIS_URL: 'redis://booking-redis:6380/2' });
  t.is(config.moduleRedisUrls.booking, 'redis://booking-redis:6380/2');
  t.is(config.moduleRedisUrls.payment, 'redis://shared:6379');
  t.throws(() => loadConfig({ PAYMENT_REDIS_URL: 'http://nope' }), { message: /PAYMENT_REDIS_URL/ });
  t.throws(() => loadConfig({ REDIS_SENTINELS: 'a:1,b' }), { message: /REDIS_SENTINELS/ });
});

test('Sentinel: REDIS_SENTINELS and REDIS_SENTINEL_NAME map onto node-redis createSentinel and ioredis sentinels', (t) => {
  const sentinels = parseSentinels('s1.example:26379,10.0.0.2:26380', 'boxoffice');
  t.deepEqual(sentinels, { name: 'boxoffice', nodes: [{ host: 's1.example', port: 26379 }, { host: '10.0.0.2', port: 26380 }] });
  const url = 'rediss://app:p%40ss@ignored-host:6379/3';

  const node = nodeRedisOptions(url, sentinels, SOCKET);
  t.is(node.kind, 'sentinel');
  t.like(node.options, { name: 'boxoffice', sentinelRootNodes: sentinels!.nodes });
  t.like((node.options as { nodeClientOptions: object }).nodeClientOptions, { username: 'app', password: 'p@ss', database: 3, disableOfflineQueue: true, socket: { tls: true, connectTimeout: 3_000 } });

  const io = ioredisOptions(url, sentinels, { maxRetriesPerRequest: null });
  t.deepEqual(io, { sentinels: sentinels!.nodes, name: 'boxoffice', username: 'app', password: 'p@ss', db: 3, tls: {}, maxRetriesPerRequest: null });

  // without sentinels the URL is the server, as before
  t.deepEqual(nodeRedisOptions('redis://h:1', undefined, SOCKET), { kind: 'client', options: { url: 'redis://h:1', disableOfflineQueue: true, socket: SOCKET } });
  t.deepEqual(ioredisOptions('redis://h:1', undefined, { enableOfflineQueue: false }), { url: 'redis://h:1', enableOfflineQueue: false });
  t.is(parseSentinels(undefined, 'x'), undefined);
});

test('a booking with its own Redis keeps its seat holds there, not in the shared one', async (t) => {
  const app = await startTestApp({ env: { BOOKING_REDIS_URL: 'redis://127.0.0.1:6379/5', FLAGS_BOOTSTRAP: 'use_per_seat_locks=true' } });
  t.teardown(() => app.stop());
  const [own, shared] = [createClient({ url: 'redis://127.0.0.1:6379/5' }), createClient({ url: app.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' })];
  await Promise.all([own.connect(), shared.connect()]);
  t.teardown(() => Promise.all([own.close(), shared.close()]).then(() => undefined));

  const c = await createCatalog(app, await adminToken(app), { rows: 1, perRow: 1 });
  const [user] = await forgeUsers(app, 1);
  const res = await api(app.url, 'POST', '/api/v1/bookings', { token: user!.token, body: { showtime_id: c.showtimeId, seat_ids: c.seatIds } });
  t.is(res.status, 201, JSON.stringify(res.body));
  const key = app.app.booking!.admin.seatHoldKey(c.showtimeId, c.seatIds[0]!);
  t.is(await own.get(key), res.body.id, 'the hold is in BOOKING_REDIS_URL');
  t.is(await shared.exists(key), 0, 'and not in REDIS_URL');
  const ready = await api(app.url, 'GET', '/health/ready');
  t.is(ready.status, 200);
});
