import { randomUUID } from 'node:crypto';
import test from 'ava';
import { IdempotencyCache } from '../../../src/modules/payment/internal/idempotency-cache.ts';
import { registerAndLogin, startTestApp, testBackend, type TestApp } from '../../helpers/app.ts';
import { ledger, legacyBooking, legacyDb, pay, paymentsDb, transactionsOf } from './fixtures.ts';

let app: TestApp;
test.before(async () => {
  // BACKEND=postgres hosts every module (events go in process)
  app = await startTestApp({ env: { ROLE: 'web', ...(testBackend() === 'full' ? { MODULES: 'auth,payment' } : {}) } });
});
test.after.always(async () => {
  await app?.stop();
});

const newPayer = async () => {
  const user = await registerAndLogin(app.url, 'payer');
  return { ...user, booking: (price?: string) => legacyBooking(legacyDb(app), { userId: user.id, ...(price ? { totalPrice: price } : {}) }) };
};

const cacheKey = (userId: string, key: string) =>
  new IdempotencyCache({ redis: app.app.redis, keyPrefix: app.env['REDIS_KEY_PREFIX']!, logger: app.app.logger }).cacheKey(userId, key);

/** drop the Redis copy of a finished key (none with BACKEND=postgres: Postgres alone answers replays) */
const dropCached = async (userId: string, key: string) => void (await app.app.redis?.del(cacheKey(userId, key)));

const keyRow = (userId: string, key: string) => paymentsDb(app).withSchema('payments').table('idempotency_keys').where({ user_id: userId, idempotency_key: key }).first();

test('no Idempotency-Key → 400 naming the header; a malformed one → 400; nothing is charged or recorded', async (t) => {
  const u = await newPayer();
  const b = await u.booking();
  const missing = await pay(app, { token: u.access, bookingId: b.bookingId, key: null });
  t.is(missing.status, 400);
  t.is(missing.body.type, 'urn:boxoffice:problem:idempotency-key-required');
  t.is(missing.body.header, 'Idempotency-Key');
  t.regex(missing.body.detail, /Idempotency-Key/);
  for (const bad of ['x'.repeat(256), 'has space', 'cl\u00e9', 'a\tb']) {
    const r = await pay(app, { token: u.access, bookingId: b.bookingId, key: bad });
    t.is(r.status, 400, bad);
    t.is(r.body.type, 'urn:boxoffice:problem:invalid-idempotency-key');
    t.is(r.body.header, 'Idempotency-Key');
  }
  const unauthenticated = await pay(app, { token: 'nope', bookingId: b.bookingId });
  t.is(unauthenticated.status, 401, 'who you are is checked before the key');
  t.is((await paymentsDb(app).withSchema('public').table('payments').where({ booking_id: b.bookingId })).length, 0, 'no payment was created');
  t.is(await paymentsDb(app).withSchema('payments').table('idempotency_keys').where({ user_id: u.id }).first(), undefined);
  const ok = await pay(app, { token: u.access, bookingId: b.bookingId });
  t.is(ok.status, 201, 'positive control: the same booking with a key is paid');
});

test('replay: the same key and body → the stored status and body, without a second gateway call', async (t) => {
  const u = await newPayer();
  const b = await u.booking('150000.50');
  const key = randomUUID();
  const first = await pay(app, { token: u.access, bookingId: b.bookingId, key });
  t.is(first.status, 201);
  t.like(first.body, { status: 'completed', amount: '150000.50', currency: 'VND', booking_id: b.bookingId });
  t.is(first.headers.get('idempotent-replayed'), null);
  // the same body with its keys in another order is the same request
  const again = await pay(app, { token: u.access, bookingId: b.bookingId, key, body: { payment_method: { token: 'tok_success', type: 'card' }, booking_id: b.bookingId } });
  t.is(again.status, 201);
  t.deepEqual(again.body, first.body);
  t.is(again.headers.get('idempotent-replayed'), 'true');
  const third = await pay(app, { token: u.access, bookingId: b.bookingId, key });
  t.deepEqual(third.body, first.body);
  const l = await ledger(paymentsDb(app), { charge: first.body.id });
  t.is(l.charges, 1);
  t.is(l.requests, 1, 'the gateway heard one request');
  t.is((await transactionsOf(paymentsDb(app), first.body.id)).length, 1, 'one gateway call logged');
});

test('the same key with a different body → 422, and the first payment is untouched', async (t) => {
  const u = await newPayer();
  const [a, b] = [await u.booking(), await u.booking()];
  const key = randomUUID();
  const first = await pay(app, { token: u.access, bookingId: a.bookingId, key });
  t.is(first.status, 201);
  const otherCard = await pay(app, { token: u.access, bookingId: a.bookingId, key, card: 'tok_decline' });
  t.is(otherCard.status, 422);
  t.is(otherCard.body.type, 'urn:boxoffice:problem:idempotency-key-reused');
  const otherBooking = await pay(app, { token: u.access, bookingId: b.bookingId, key });
  t.is(otherBooking.status, 422);
  t.is((await ledger(paymentsDb(app), { charge: first.body.id })).requests, 1);
  t.is((await keyRow(u.id, key)).payment_id, first.body.id);
  // also when the response is answered from Redis first (it is cached now) and when it is not
  await dropCached(u.id, key);
  t.is((await pay(app, { token: u.access, bookingId: b.bookingId, key })).status, 422);
});

test('50 concurrent requests with one key → exactly one gateway charge; each answer is the stored 201 or 409 in progress', async (t) => {
  const u = await newPayer();
  const b = await u.booking();
  const key = randomUUID();
  const answers = await Promise.all(Array.from({ length: 50 }, () => pay(app, { token: u.access, bookingId: b.bookingId, key })));
  const created = answers.filter((r) => r.status === 201);
  const busy = answers.filter((r) => r.status === 409);
  t.is(created.length + busy.length, 50, `statuses: ${[...new Set(answers.map((r) => r.status))].join(',')}`);
  t.true(created.length >= 1);
  t.log(`${created.length} × 201, ${busy.length} × 409`);
  for (const r of created) t.deepEqual(r.body, created[0]!.body);
  for (const r of busy) t.is(r.body.type, 'urn:boxoffice:problem:idempotency-key-in-progress');
  t.is(created[0]!.body.status, 'completed');
  const all = await ledger(paymentsDb(app));
  t.is(all.rows.filter((r) => r.idempotency_key === `payment:${created[0]!.body.id}:charge`).length, 1);
  t.is((await ledger(paymentsDb(app), { charge: created[0]!.body.id })).requests, 1, 'the gateway was called once');
  const payments = await paymentsDb(app).withSchema('public').table('payments').where({ booking_id: b.bookingId });
  t.is(payments.length, 1, 'one payment row');
  // and once it settled, a late duplicate is a replay
  const late = await pay(app, { token: u.access, bookingId: b.bookingId, key });
  t.is(late.status, 201);
  t.deepEqual(late.body, created[0]!.body);
});

test('keys expire after 24 h: then the key may be used again, for another request too', async (t) => {
  const u = await newPayer();
  const [a, b] = [await u.booking(), await u.booking()];
  const key = randomUUID();
  const first = await pay(app, { token: u.access, bookingId: a.bookingId, key });
  t.is(first.status, 201);
  const age = async (seconds: number) => {
    await paymentsDb(app).withSchema('payments').table('idempotency_keys').where({ user_id: u.id, idempotency_key: key }).update({ created_at: new Date(Date.now() - seconds * 1000) });
    await dropCached(u.id, key); // the Redis copy expires with the key
  };
  await age(23 * 3600);
  t.is((await pay(app, { token: u.access, bookingId: b.bookingId, key })).status, 422, 'at 23 h the key still belongs to the first request');
  t.deepEqual((await pay(app, { token: u.access, bookingId: a.bookingId, key })).body, first.body);
  await age(24 * 3600 + 1);
  const reused = await pay(app, { token: u.access, bookingId: b.bookingId, key });
  t.is(reused.status, 201);
  t.not(reused.body.id, first.body.id);
  t.is(reused.body.booking_id, b.bookingId);
  t.is((await ledger(paymentsDb(app), { charge: reused.body.id })).charges, 1);
  t.is((await keyRow(u.id, key)).payment_id, reused.body.id);
  t.is((await ledger(paymentsDb(app), { charge: first.body.id })).requests, 1, 'the first charge was not repeated');
});

test('keys are scoped per user: the same key from two users → two payments', async (t) => {
  const [u1, u2] = [await newPayer(), await newPayer()];
  const [b1, b2] = [await u1.booking('1000.00'), await u2.booking('2000.00')];
  const key = `shared-${randomUUID()}`;
  const p1 = await pay(app, { token: u1.access, bookingId: b1.bookingId, key });
  const p2 = await pay(app, { token: u2.access, bookingId: b2.bookingId, key });
  t.is(p1.status, 201);
  t.is(p2.status, 201);
  t.not(p1.body.id, p2.body.id);
  t.is(p1.body.amount, '1000.00');
  t.is(p2.body.amount, '2000.00');
  t.is((await ledger(paymentsDb(app), { charge: p1.body.id })).charges, 1);
  t.is((await ledger(paymentsDb(app), { charge: p2.body.id })).charges, 1);
  // and user 2 cannot replay user 1's payment by its key (u2's own request is stored under it)
  t.deepEqual((await pay(app, { token: u2.access, bookingId: b2.bookingId, key })).body, p2.body);
});

if (testBackend() === 'full') test('Redis is only a fast path: a replay without the cached copy comes from Postgres; with it, Postgres is not asked', async (t) => {
  const u = await newPayer();
  const b = await u.booking();
  const key = randomUUID();
  const first = await pay(app, { token: u.access, bookingId: b.bookingId, key });
  t.is(first.status, 201);
  t.truthy(await app.app.redis!.get(cacheKey(u.id, key)), 'the finished response was cached');
  const ttl = await app.app.redis!.pTTL(cacheKey(u.id, key));
  t.true(ttl > 23 * 3600_000 && ttl <= 24 * 3600_000, `cache entry expires with the key (ttl ${ttl} ms)`);

  await app.app.redis!.del(cacheKey(u.id, key));
  const fromPg = await pay(app, { token: u.access, bookingId: b.bookingId, key });
  t.is(fromPg.status, 201);
  t.deepEqual(fromPg.body, first.body);
  t.is((await ledger(paymentsDb(app), { charge: first.body.id })).requests, 1, 'losing the cache did not charge again');

  // the replay re-cached it; now hide the Postgres row: the fast path alone answers
  const row = await keyRow(u.id, key);
  await paymentsDb(app).withSchema('payments').table('idempotency_keys').where({ id: row.id }).update({ request_fingerprint: 'hidden' });
  const fromRedis = await pay(app, { token: u.access, bookingId: b.bookingId, key });
  t.is(fromRedis.status, 201, 'answered from Redis (Postgres would have said 422 for the changed fingerprint)');
  t.deepEqual(fromRedis.body, first.body);
});
