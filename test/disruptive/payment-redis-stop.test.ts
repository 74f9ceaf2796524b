import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { registerAndLogin, startTestApp, type TestApp } from '../helpers/app.ts';
import { waitFor } from '../helpers/events.ts';
import { ledger, legacyBooking, legacyDb, pay, paymentsDb } from '../modules/payment/fixtures.ts';

// Stops the shared Redis server in the middle of a burst of same-key payment requests, then restores it
// (ops/services.sh redis). Runs alone, serially, under the exclusive test lock (npm test).
const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

async function redisUp(): Promise<boolean> {
  return run('redis-cli', ['-p', '6379', 'ping'], { timeout: 3_000 }).then((r) => r.stdout.trim() === 'PONG', () => false);
}
async function stopRedis(): Promise<void> {
  await run('redis-cli', ['-p', '6379', 'shutdown', 'nosave'], { timeout: 10_000 }).catch(() => undefined); // the connection drops: expected
  await waitFor('redis to stop', async () => !(await redisUp()), 10_000);
}
async function restoreRedis(): Promise<void> {
  if (await redisUp()) return;
  await run('bash', ['ops/services.sh', 'redis'], { cwd: root, timeout: 60_000 });
  await waitFor('redis to answer', redisUp, 30_000);
}

let app: TestApp;
test.before(async () => {
  app = await startTestApp({ env: { ROLE: 'web', MODULES: 'auth,payment' } });
});
test.after.always(async () => {
  await restoreRedis();
  await app?.stop();
});

test.serial('Redis stops during 40 same-key requests and a replay: one charge, every answer the stored 201 or 409; after it is back the fast path resumes', async (t) => {
  t.true(await redisUp(), 'Redis is up to begin with');
  const user = await registerAndLogin(app.url, 'redisstop');
  const cached = await legacyBooking(legacyDb(app), { userId: user.id });
  const cachedKey = randomUUID();
  const first = await pay(app, { token: user.access, bookingId: cached.bookingId, key: cachedKey });
  t.is(first.status, 201);
  const booking = await legacyBooking(legacyDb(app), { userId: user.id });
  const key = randomUUID();
  try {
    const burst = Promise.all(Array.from({ length: 40 }, () => pay(app, { token: user.access, bookingId: booking.bookingId, key })));
    await stopRedis();
    const answers = await burst;
    const created = answers.filter((a) => a.status === 201);
    t.is(created.length + answers.filter((a) => a.status === 409).length, 40, `statuses ${answers.map((a) => a.status).join(',')}`);
    t.true(created.length >= 1);
    for (const c of created) t.deepEqual(c.body, created[0]!.body);
    t.is((await ledger(paymentsDb(app), { charge: created[0]!.body.id })).charges, 1);
    t.is((await ledger(paymentsDb(app), { charge: created[0]!.body.id })).requests, 1);

    t.false(await redisUp());
    const replay = await pay(app, { token: user.access, bookingId: cached.bookingId, key: cachedKey });
    t.is(replay.status, 201, 'the cached response is gone with Redis; Postgres answers');
    t.deepEqual(replay.body, first.body);
    t.is((await ledger(paymentsDb(app), { charge: first.body.id })).requests, 1, 'no second charge');
  } finally {
    await restoreRedis();
  }
  await waitFor('the app to reconnect to Redis', async () => app.app.redis!.isReady, 20_000);
  const again = await pay(app, { token: user.access, bookingId: cached.bookingId, key: cachedKey });
  t.deepEqual(again.body, first.body);
  const cacheKeys = await app.app.redis!.keys(`${app.env['REDIS_KEY_PREFIX']}payment:idem:${user.id}:*`);
  t.is(cacheKeys.length, 1, 'the replay re-filled the fast path');
});
