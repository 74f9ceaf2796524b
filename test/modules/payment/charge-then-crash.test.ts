import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { startChildApp } from '../../helpers/child-app.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { ledger, legacyBooking, legacyDb, outboxTypes, pay, paymentsDb, transactionsOf } from './fixtures.ts';

/**
 * tok_charge_then_crash: the gateway charges, then our process dies before it records the outcome. The
 * key stays locked at `payment_created` (as a dead process leaves it); once the lock times out, a retry
 * with the same Idempotency-Key resumes, repeats the charge under the same gateway key, gets the existing
 * charge back (replayed) and completes the payment — one charge in the gateway's ledger.
 */
let db: TestDatabase;
let keysDir: string;
let events: TestApp;
let legacy: TestApp;
test.before(async () => {
  db = await createTestDatabase();
  keysDir = await mkdtemp(join(tmpdir(), 'bo-pay-crash-'));
  const env = { ROLE: 'web', MODULES: 'auth,payment', JWT_KEYS_DIR: keysDir };
  events = await startTestApp({ db, env: { ...env, FLAGS_BOOTSTRAP: 'use_payment_events=true' } });
  legacy = await startTestApp({ env });
});
test.after.always(async () => {
  await Promise.all([events?.stop(), legacy?.stop()]);
  await db?.drop();
  await rm(keysDir, { recursive: true, force: true });
});

const keyRow = (app: TestApp, userId: string, key: string) =>
  paymentsDb(app).withSchema('payments').table('idempotency_keys').where({ user_id: userId, idempotency_key: key }).first();

/** what a dead request leaves behind, then the lock timeout passing (PAYMENT_IDEMPOTENCY_LOCK_TIMEOUT_MS, 90 s) */
async function expireLock(app: TestApp, userId: string, key: string): Promise<void> {
  await paymentsDb(app).withSchema('payments').table('idempotency_keys').where({ user_id: userId, idempotency_key: key }).update({ locked_at: new Date(Date.now() - 91_000) });
}

async function assertCrashedState(t: import('ava').ExecutionContext, app: TestApp, user: { id: string; access: string }, key: string): Promise<string> {
  const userId = user.id;
  const row = await keyRow(app, userId, key);
  t.like(row, { recovery_point: 'payment_created', response_code: null });
  t.truthy(row.locked_at, 'the dead request still holds the key');
  const paymentId = row.payment_id as string;
  const l = await ledger(paymentsDb(app), { charge: paymentId });
  t.is(l.charges, 1, 'the gateway charged');
  t.deepEqual((await transactionsOf(paymentsDb(app), paymentId)).map((c) => c.status), ['requested'], 'the call is logged, its answer never was');
  const payment = await api(app.url, 'GET', `/api/v1/payments/${paymentId}`, { token: user.access });
  t.is(payment.body.status, 'pending');
  return paymentId;
}

async function payerOn(app: TestApp) {
  const user = await registerAndLogin(app.url, 'crash');
  return { user, booking: await legacyBooking(legacyDb(app), { userId: user.id, totalPrice: '310000.00' }) };
}

async function resume(t: import('ava').ExecutionContext, app: TestApp, o: { access: string; userId: string; bookingId: string; key: string; paymentId: string }) {
  const early = await pay(app, { token: o.access, bookingId: o.bookingId, key: o.key, card: 'tok_charge_then_crash' });
  t.is(early.status, 409, 'while the lock is fresh the retry is told to wait');
  t.is(early.body.type, 'urn:boxoffice:problem:idempotency-key-in-progress');
  await expireLock(app, o.userId, o.key);
  const res = await pay(app, { token: o.access, bookingId: o.bookingId, key: o.key, card: 'tok_charge_then_crash' });
  t.is(res.status, 201);
  t.like(res.body, { id: o.paymentId, amount: '310000.00', booking_id: o.bookingId });
  const l = await ledger(paymentsDb(app), { charge: o.paymentId });
  t.is(l.charges, 1, 'no second charge');
  t.is(l.rows.find((r) => r.operation === 'charge')!.requests, 2, 'the retry reached the gateway, which answered with the first charge');
  const calls = await transactionsOf(paymentsDb(app), o.paymentId);
  t.deepEqual(calls.filter((c) => c.type === 'charge').map((c) => [c.status, c.replayed]), [['requested', null], ['succeeded', true]]);
  return res;
}

test('in process: the charge is made, the process "dies" (500), the retry after the lock timeout completes it with no second charge', async (t) => {
  const { user, booking } = await payerOn(events);
  const key = randomUUID();
  const crashed = await pay(events, { token: user.access, bookingId: booking.bookingId, key, card: 'tok_charge_then_crash' });
  t.is(crashed.status, 500);
  const paymentId = await assertCrashedState(t, events, user, key);
  const res = await resume(t, events, { access: user.access, userId: user.id, bookingId: booking.bookingId, key, paymentId });
  t.is(res.body.status, 'completed');
  t.deepEqual(await outboxTypes(paymentsDb(events), paymentId), ['payment.initiated', 'payment.completed'], 'payment.completed once');
  t.deepEqual((await pay(events, { token: user.access, bookingId: booking.bookingId, key, card: 'tok_charge_then_crash' })).body, res.body, 'then a replay');
});

test('a real process killed (SIGKILL) right after the charge: the retry on another process completes the payment, one charge', async (t) => {
  const { user, booking } = await payerOn(events);
  const app = await startChildApp({
    DATABASE_URL: db.url,
    JWT_KEYS_DIR: keysDir,
    MODULES: 'auth,payment',
    ROLE: 'web',
    REDIS_KEY_PREFIX: `bo-crash-${randomUUID().slice(0, 8)}:`,
    FLAGS_BOOTSTRAP: 'use_payment_events=true',
    PAYMENT_FAKE_CRASH_MODE: 'kill',
  });
  const exited = once(app.process, 'exit').then(([code, signal]) => (signal ?? code) as NodeJS.Signals | number | null);
  try {
    const key = randomUUID();
    const err = await t.throwsAsync(
      fetch(`${app.url}/api/v1/payments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.access}`, 'content-type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify({ booking_id: booking.bookingId, payment_method: { type: 'card', token: 'tok_charge_then_crash' } }),
      }),
    );
    t.truthy(err, 'the connection died with the process');
    t.is(await exited, 'SIGKILL', app.describe());
    const paymentId = await assertCrashedState(t, events, user, key);
    const res = await resume(t, events, { access: user.access, userId: user.id, bookingId: booking.bookingId, key, paymentId });
    t.is(res.body.status, 'completed');
    t.deepEqual(await outboxTypes(paymentsDb(events), paymentId), ['payment.initiated', 'payment.completed']);
  } finally {
    await app.stop();
  }
});

test('legacy path: the booking expired while the process was dead — the resumed payment completes and is refunded at once', async (t) => {
  const { user, booking } = await payerOn(legacy);
  const key = randomUUID();
  t.is((await pay(legacy, { token: user.access, bookingId: booking.bookingId, key, card: 'tok_charge_then_crash' })).status, 500);
  const paymentId = (await keyRow(legacy, user.id, key)).payment_id as string;
  await legacyDb(legacy).table('bookings').where({ id: booking.bookingId }).update({ status: 'expired' }); // the sweeper ran
  const res = await resume(t, legacy, { access: user.access, userId: user.id, bookingId: booking.bookingId, key, paymentId });
  t.is(res.body.status, 'refunded', 'the stored response says what happened');
  const l = await ledger(paymentsDb(legacy), { charge: paymentId });
  t.is(l.refunds, 1);
  t.is((await legacyDb(legacy).table('bookings').where({ id: booking.bookingId }).first()).status, 'expired', 'an expired booking is not revived');
  t.is((await legacyDb(legacy).table('payments').where({ id: paymentId }).first()).status, 'refunded');
  t.deepEqual((await pay(legacy, { token: user.access, bookingId: booking.bookingId, key, card: 'tok_charge_then_crash' })).body, res.body);
});
