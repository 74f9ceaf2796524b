import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createClient } from 'redis';
import { loadConfig } from '../../src/platform/config.ts';
import { ioredisOptions, nodeRedisOptions, parseSentinels } from '../../src/platform/redis-options.ts';
import { api, startTestApp } from '../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers } from '../helpers/catalog.ts';
import { waitFor } from '../helpers/events.ts';

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

/** A real Redis Sentinel (redis-server --sentinel) watching the test Redis under a master name of its own. */
async function startSentinel(): Promise<{ port: number; name: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  const name = `bo-t-${randomBytes(4).toString('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), 'bo-sentinel-'));
  // sentinel rewrites its config file, so it gets a writable one of its own
  await writeFile(join(dir, 'sentinel.conf'), `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor ${name} 127.0.0.1 6379 1\n`);
  const child = spawn('redis-server', [join(dir, 'sentinel.conf'), '--sentinel'], { stdio: 'ignore' });
  const sentinel = createClient({ url: `redis://127.0.0.1:${port}` });
  sentinel.on('error', () => undefined);
  await waitFor('the sentinel answers and knows the master', async () => {
    if (!sentinel.isOpen) await sentinel.connect().catch(() => undefined);
    const master = await sentinel.sendCommand(['SENTINEL', 'get-master-addr-by-name', name]).catch(() => undefined);
    return Array.isArray(master) && master[1] === '6379';
  });
  return {
    port,
    name,
    async stop() {
      sentinel.destroy();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('through a real Sentinel: the app finds the master for node-redis and BullMQ, and is ready', async (t) => {
  const sentinel = await startSentinel();
  t.teardown(() => sentinel.stop());
  // the URL's host is a name that resolves nowhere: only the sentinel can lead to the server
  const app = await startTestApp({ env: { REDIS_URL: 'redis://nowhere.invalid:6379', REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`, REDIS_SENTINEL_NAME: sentinel.name } });
  t.teardown(() => app.stop());
  const ready = await api(app.url, 'GET', '/health/ready');
  t.is(ready.status, 200, JSON.stringify(ready.body));
  t.is(ready.body.checks.redis.status, 'ok');
  const key = `${app.env['REDIS_KEY_PREFIX']}sentinel-probe`;
  await app.app.redis!.set(key, 'via-sentinel', { PX: 60_000 });
  const direct = createClient({ url: 'redis://127.0.0.1:6379' });
  await direct.connect();
  t.teardown(() => direct.close().then(() => undefined));
  t.is(await direct.get(key), 'via-sentinel');
});
