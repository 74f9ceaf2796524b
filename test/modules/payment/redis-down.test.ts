import { randomUUID } from 'node:crypto';
import test from 'ava';
import { registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { ledger, legacyBooking, legacyDb, pay, paymentsDb } from './fixtures.ts';

// Redis is only the fast path for finished idempotency keys: with nothing listening on its port, every
// decision is Postgres's — replays, concurrent duplicates and new payments behave exactly as with Redis.
let app: TestApp;
test.before(async () => {
  app = await startTestApp({ env: { ROLE: 'web', MODULES: 'auth,payment', REDIS_URL: 'redis://127.0.0.1:1' } });
});
test.after.always(async () => {
  await app?.stop();
});

test('without Redis: payments, replays and 30 concurrent duplicates still make exactly one charge each', async (t) => {
  t.false(app.app.redis!.isReady);
  const user = await registerAndLogin(app.url, 'noredis');
  const booking = await legacyBooking(legacyDb(app), { userId: user.id });
  const key = randomUUID();
  const answers = await Promise.all(Array.from({ length: 30 }, () => pay(app, { token: user.access, bookingId: booking.bookingId, key })));
  const created = answers.filter((a) => a.status === 201);
  t.is(created.length + answers.filter((a) => a.status === 409).length, 30);
  t.true(created.length >= 1);
  for (const c of created) t.deepEqual(c.body, created[0]!.body);
  const replay = await pay(app, { token: user.access, bookingId: booking.bookingId, key });
  t.is(replay.status, 201);
  t.is(replay.headers.get('idempotent-replayed'), 'true');
  t.deepEqual(replay.body, created[0]!.body);
  const l = await ledger(paymentsDb(app), { charge: created[0]!.body.id });
  t.is(l.charges, 1);
  t.is(l.requests, 1);
  t.is((await pay(app, { token: user.access, bookingId: booking.bookingId, key, card: 'tok_decline' })).status, 422);
});
