import { randomUUID } from 'node:crypto';
import test from 'ava';
import type { Envelope } from '../../../src/platform/events/envelope.ts';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { bookingEndedEvent, deliver, ledger, legacyBooking, legacyDb, outboxTypes, pay, paymentsDb, transactionsOf } from './fixtures.ts';

/** legacy: use_payment_events off (the default) — events: on. Both with a short gateway deadline. */
let legacy: TestApp;
let events: TestApp;
test.before(async () => {
  const env = { ROLE: 'web', MODULES: 'auth,payment', PAYMENT_GATEWAY_TIMEOUT_MS: '300' };
  [legacy, events] = await Promise.all([
    startTestApp({ env }),
    startTestApp({ env: { ...env, FLAGS_BOOTSTRAP: 'use_payment_events=true' } }),
  ]);
});
test.after.always(async () => {
  await Promise.all([legacy?.stop(), events?.stop()]);
});

async function payer(app: TestApp, price?: string) {
  const user = await registerAndLogin(app.url, 'payer');
  const booking = await legacyBooking(legacyDb(app), { userId: user.id, ...(price ? { totalPrice: price } : {}) });
  return { user, booking };
}

const bookingStatus = async (app: TestApp, id: string) => ((await legacyDb(app).table('bookings').where({ id }).first('status')) as { status: string }).status;

async function outboxEvent(app: TestApp, type: string, paymentId: string): Promise<Envelope> {
  const rows = (await paymentsDb(app).withSchema('payments').table('outbox').where({ event_type: type }).select('envelope')) as { envelope: Envelope }[];
  const found = rows.map((r) => r.envelope).filter((e) => e.payload['payment_id'] === paymentId);
  if (found.length !== 1) throw new Error(`expected one ${type} for ${paymentId}, found ${found.length}`);
  return found[0]!;
}

test('legacy path (use_payment_events off): 201 completed, the shared bookings row is confirmed by payment itself, no events', async (t) => {
  const { user, booking } = await payer(legacy, '180000.00');
  const res = await pay(legacy, { token: user.access, bookingId: booking.bookingId });
  t.is(res.status, 201);
  t.like(res.body, { status: 'completed', amount: '180000.00', currency: 'VND', booking_id: booking.bookingId, failure_reason: null });
  t.is(res.headers.get('location'), `/api/v1/payments/${res.body.id}`);
  t.is(await bookingStatus(legacy, booking.bookingId), 'confirmed');
  const row = await legacyDb(legacy).table('payments').where({ id: res.body.id }).first();
  t.like(row, { status: 'completed', booking_id: booking.bookingId, user_id: user.id, payment_method: 'card' });
  const l = await ledger(paymentsDb(legacy), { charge: res.body.id });
  t.is(l.charges, 1);
  t.is(row.transaction_id, l.rows[0]!.reference);
  t.deepEqual(await outboxTypes(paymentsDb(legacy), res.body.id), [], 'the old behaviour writes no events');
  const [call] = await transactionsOf(paymentsDb(legacy), res.body.id);
  t.like(call, { type: 'charge', status: 'succeeded', gateway_reference: row.transaction_id, replayed: false });
  t.true(typeof call!.latency_ms === 'number');
  // paying a confirmed booking again (new key) is refused
  const again = await pay(legacy, { token: user.access, bookingId: booking.bookingId });
  t.is(again.status, 409);
  t.is(again.body.type, 'urn:boxoffice:problem:booking-not-payable');
});

test('events path: payment.initiated and payment.completed (seed §8.4.3) in the outbox; the booking row is left to the saga', async (t) => {
  const { user, booking } = await payer(events, '240000.00');
  const key = randomUUID();
  const res = await pay(events, { token: user.access, bookingId: booking.bookingId, key });
  t.is(res.status, 201);
  t.is(res.body.status, 'completed');
  t.is(await bookingStatus(events, booking.bookingId), 'pending', 'booking confirms itself on payment.completed');
  t.deepEqual(await outboxTypes(paymentsDb(events), res.body.id), ['payment.initiated', 'payment.completed']);
  const completed = await outboxEvent(events, 'payment.completed', res.body.id);
  const charge = (await ledger(paymentsDb(events), { charge: res.body.id })).rows[0]!;
  t.like(completed, { event_type: 'payment.completed', event_version: '1.0', source: 'payment' });
  t.deepEqual(Object.keys(completed.payload).sort(), [
    'amount', 'booking_id', 'card_last_four', 'completed_at', 'currency', 'gateway', 'idempotency_key', 'payment_id', 'payment_method', 'transaction_id', 'user_id',
  ]);
  t.like(completed.payload, {
    payment_id: res.body.id,
    booking_id: booking.bookingId,
    user_id: user.id,
    amount: '240000.00',
    currency: 'VND',
    payment_method: 'card',
    card_last_four: '4242',
    transaction_id: charge.reference,
    gateway: 'fake',
    idempotency_key: key,
  });
  t.like((await outboxEvent(events, 'payment.initiated', res.body.id)).payload, { amount: '240000.00', method: 'card', booking_id: booking.bookingId });
  // one pending-or-completed payment per booking, whatever the key
  const second = await pay(events, { token: user.access, bookingId: booking.bookingId });
  t.is(second.status, 409);
  t.like(second.body, { type: 'urn:boxoffice:problem:payment-exists', payment_id: res.body.id });
});

test('decline → 201 failed + payment.failed (events path); on the legacy path the booking stays pending and may be paid with another card', async (t) => {
  const e = await payer(events);
  const declined = await pay(events, { token: e.user.access, bookingId: e.booking.bookingId, card: 'tok_decline' });
  t.is(declined.status, 201);
  t.like(declined.body, { status: 'failed', failure_reason: 'card_declined' });
  t.deepEqual(await outboxTypes(paymentsDb(events), declined.body.id), ['payment.initiated', 'payment.failed']);
  t.like((await outboxEvent(events, 'payment.failed', declined.body.id)).payload, { booking_id: e.booking.bookingId, user_id: e.user.id, reason: 'card_declined' });
  t.is((await ledger(paymentsDb(events), { charge: declined.body.id })).declines, 1);
  t.is((await ledger(paymentsDb(events), { charge: declined.body.id })).charges, 0);
  const got = await api(events.url, 'GET', `/api/v1/payments/${declined.body.id}`, { token: e.user.access });
  t.like(got.body, { status: 'failed', failure_reason: 'card_declined' });

  const l = await payer(legacy);
  const first = await pay(legacy, { token: l.user.access, bookingId: l.booking.bookingId, card: 'tok_decline' });
  t.like(first.body, { status: 'failed' });
  t.is(await bookingStatus(legacy, l.booking.bookingId), 'pending');
  t.deepEqual(await outboxTypes(paymentsDb(legacy), first.body.id), []);
  const retry = await pay(legacy, { token: l.user.access, bookingId: l.booking.bookingId });
  t.is(retry.status, 201);
  t.is(retry.body.status, 'completed');
  t.is(await bookingStatus(legacy, l.booking.bookingId), 'confirmed');
});

test('timeout: 504 and the payment stays pending and recoverable; a retry with the key resumes (no second payment); booking.expired settles it failed', async (t) => {
  const { user, booking } = await payer(events);
  const key = randomUUID();
  const t0 = Date.now();
  const res = await pay(events, { token: user.access, bookingId: booking.bookingId, key, card: 'tok_timeout' });
  t.is(res.status, 504);
  t.like(res.body, { type: 'urn:boxoffice:problem:gateway-timeout', retryable: true });
  t.true(Date.now() - t0 < 3_000, 'the deadline cut the wait');
  const paymentId = res.body.payment_id as string;
  const view = await api(events.url, 'GET', `/api/v1/payments/${paymentId}`, { token: user.access });
  t.like(view.body, { status: 'pending', booking_id: booking.bookingId });
  const keyRow = await paymentsDb(events).withSchema('payments').table('idempotency_keys').where({ user_id: user.id, idempotency_key: key }).first();
  t.like(keyRow, { recovery_point: 'payment_created', payment_id: paymentId, locked_at: null, response_code: null });

  const retry = await pay(events, { token: user.access, bookingId: booking.bookingId, key, card: 'tok_timeout' });
  t.is(retry.status, 504, 'resumed at once (the key was released), timed out again');
  t.is(retry.body.payment_id, paymentId);
  t.deepEqual((await transactionsOf(paymentsDb(events), paymentId)).map((c) => `${c.type}:${c.status}`), ['charge:timeout', 'charge:timeout']);
  const otherKey = await pay(events, { token: user.access, bookingId: booking.bookingId });
  t.like(otherKey.body, { type: 'urn:boxoffice:problem:payment-exists', payment_id: paymentId, payment_status: 'pending' });
  t.is((await ledger(paymentsDb(events), { charge: paymentId })).rows.length, 0, 'nothing charged');

  // the booking expires: payment asks the gateway (never charges), finds nothing, fails the payment
  t.is(await deliver(events, bookingEndedEvent('booking.expired', { bookingId: booking.bookingId, userId: user.id })), 'handled');
  const settled = await api(events.url, 'GET', `/api/v1/payments/${paymentId}`, { token: user.access });
  t.like(settled.body, { status: 'failed', failure_reason: 'booking_expired' });
  t.deepEqual(await outboxTypes(paymentsDb(events), paymentId), ['payment.initiated', 'payment.failed']);
  // and the key now answers with what became of it, without another gateway call
  const late = await pay(events, { token: user.access, bookingId: booking.bookingId, key, card: 'tok_timeout' });
  t.is(late.status, 201);
  t.like(late.body, { id: paymentId, status: 'failed', failure_reason: 'booking_expired' });
  t.deepEqual((await transactionsOf(paymentsDb(events), paymentId)).map((c) => `${c.type}:${c.status}`), ['charge:timeout', 'charge:timeout', 'lookup:not_found']);
});

test('the caller must own the booking (404); a booking that is not pending is 409; a refused key is free again', async (t) => {
  const owner = await payer(legacy);
  const stranger = await registerAndLogin(legacy.url, 'stranger');
  const key = randomUUID();
  const foreign = await pay(legacy, { token: stranger.access, bookingId: owner.booking.bookingId, key });
  t.is(foreign.status, 404);
  t.is(foreign.body.type, 'urn:boxoffice:problem:booking-not-found');
  t.is((await pay(legacy, { token: stranger.access, bookingId: randomUUID() })).status, 404);
  const mine = await legacyBooking(legacyDb(legacy), { userId: stranger.id });
  const ok = await pay(legacy, { token: stranger.access, bookingId: mine.bookingId, key });
  t.is(ok.status, 201, 'the key refused for the foreign booking was not kept');

  const refused = [owner.booking.bookingId];
  for (const status of ['cancelled', 'expired', 'confirmed'] as const) {
    const b = await legacyBooking(legacyDb(legacy), { userId: owner.user.id, status });
    refused.push(b.bookingId);
    const r = await pay(legacy, { token: owner.user.access, bookingId: b.bookingId });
    t.is(r.status, 409, status);
    t.like(r.body, { type: 'urn:boxoffice:problem:booking-not-payable', booking_status: status });
  }
  const lapsed = await legacyBooking(legacyDb(legacy), { userId: owner.user.id, expiresAt: new Date(Date.now() - 1000) });
  const r = await pay(legacy, { token: owner.user.access, bookingId: lapsed.bookingId });
  t.like(r.body, { status: 409, booking_status: 'expired' }, 'past expires_at even before the sweeper ran');
  refused.push(lapsed.bookingId);
  t.is((await legacyDb(legacy).table('payments').whereIn('booking_id', refused)).length, 0, 'no payment for a refused booking');
  t.is((await legacyDb(legacy).table('payments').where({ booking_id: mine.bookingId })).length, 1);
});

test('the amount is the booking’s, never the client’s: a body with an amount (or any unknown field) is 422 naming it', async (t) => {
  const { user, booking } = await payer(legacy, '99000.00');
  const sneaky = await pay(legacy, { token: user.access, bookingId: booking.bookingId, body: { booking_id: booking.bookingId, amount: 1, payment_method: { type: 'card', token: 'tok_success' } } });
  t.is(sneaky.status, 422);
  t.regex(JSON.stringify(sneaky.body.errors), /amount/);
  const noMethod = await pay(legacy, { token: user.access, bookingId: booking.bookingId, body: { booking_id: booking.bookingId, payment_method: { type: 'paypal', token: 'x' } } });
  t.is(noMethod.status, 422);
  t.is(noMethod.body.errors[0].field, 'payment_method.type');
  const fine = await pay(legacy, { token: user.access, bookingId: booking.bookingId });
  t.is(fine.body.amount, '99000.00');
});

test('GET /api/v1/payments/:id: the owner sees the payment, anyone else gets 404', async (t) => {
  const { user, booking } = await payer(legacy);
  const res = await pay(legacy, { token: user.access, bookingId: booking.bookingId });
  const mine = await api(legacy.url, 'GET', `/api/v1/payments/${res.body.id}`, { token: user.access });
  t.is(mine.status, 200);
  t.deepEqual(mine.body, res.body);
  const other = await registerAndLogin(legacy.url, 'other');
  t.is((await api(legacy.url, 'GET', `/api/v1/payments/${res.body.id}`, { token: other.access })).status, 404);
  t.is((await api(legacy.url, 'GET', '/api/v1/payments/not-a-uuid', { token: user.access })).status, 422);
});
