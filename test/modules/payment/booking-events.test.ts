import { randomUUID } from 'node:crypto';
import test from 'ava';
import { registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import {
  bookingCreatedEvent,
  bookingEndedEvent,
  counterValue,
  deliver,
  ledger,
  legacyBooking,
  legacyDb,
  outboxTypes,
  pay,
  paymentModule,
  paymentsDb,
} from './fixtures.ts';

/**
 * Payment consuming booking events (seed 002 §3.4, §6.5): handlers are called as the backbone calls them
 * (inbox row + effect in one transaction); flags are flipped through the real Unleash. The own payment
 * store, so a booking that exists only as a snapshot can be paid (no legacy foreign key).
 */
let app: TestApp;
test.before(async () => {
  app = await startTestApp({ unleash: true, env: { ROLE: 'web', MODULES: 'auth,payment', STORE_PAYMENT: 'own' } });
  await app.setFlag('use_payment_events', true);
});
test.after.always(async () => {
  await app?.stop();
});

const snapshot = (bookingId: string) => paymentsDb(app).withSchema('payments').table('booking_snapshots').where({ booking_id: bookingId }).first();

async function user() {
  return registerAndLogin(app.url, 'snap');
}

test.serial('booking.created → a snapshot; the redelivered event is a no-op (inbox); a second booking.created does not overwrite it', async (t) => {
  const u = await user();
  const bookingId = randomUUID();
  const created = bookingCreatedEvent({ bookingId, userId: u.id, totalPrice: 240000 });
  t.is(await deliver(app, created), 'handled');
  const row = await snapshot(bookingId);
  t.like(row, { user_id: u.id, total_price: '240000.00', currency: 'VND', status: 'pending', event_id: created.event_id, user_email: 'payer@example.com' });
  t.is(row.showtime_snapshot.movie_title, 'Dune: Part Three');
  t.is(row.seats.length, 1);
  t.is(new Date(row.expires_at).toISOString(), String(created.payload['expires_at']));
  t.is(await deliver(app, created), 'duplicate');
  t.is(await deliver(app, bookingCreatedEvent({ bookingId, userId: u.id, totalPrice: '1.00' })), 'handled');
  t.like(await snapshot(bookingId), { total_price: '240000.00', event_id: created.event_id }, 'first booking.created wins');
  const inbox = await paymentsDb(app).withSchema('payments').table('inbox').where({ event_id: created.event_id });
  t.is(inbox.length, 1);
  // a malformed payload is refused (the backbone dead-letters a ZodError at once)
  const bad = { ...created, event_id: randomUUID(), payload: { ...created.payload, total_price: 'lots' } };
  await t.throwsAsync(deliver(app, bad), { name: 'ZodError' });
  t.is((await paymentsDb(app).withSchema('payments').table('inbox').where({ event_id: bad.event_id })).length, 0, 'rolled back with the handler');
});

test.serial('status events move the snapshot forward; one that overtakes booking.created leaves a tombstone that is never revived', async (t) => {
  const u = await user();
  const a = randomUUID();
  await deliver(app, bookingCreatedEvent({ bookingId: a, userId: u.id, totalPrice: '10.00' }));
  await deliver(app, bookingEndedEvent('booking.confirmed', { bookingId: a, userId: u.id }));
  t.is((await snapshot(a)).status, 'confirmed');
  await deliver(app, bookingEndedEvent('booking.expired', { bookingId: a, userId: u.id }));
  t.is((await snapshot(a)).status, 'confirmed', 'a confirmed booking does not expire');
  await deliver(app, bookingEndedEvent('booking.cancelled', { bookingId: a, userId: u.id }));
  t.is((await snapshot(a)).status, 'cancelled');

  const b = randomUUID();
  await deliver(app, bookingEndedEvent('booking.cancelled', { bookingId: b, userId: u.id }));
  t.like(await snapshot(b), { status: 'cancelled', total_price: null });
  await deliver(app, bookingCreatedEvent({ bookingId: b, userId: u.id, totalPrice: '55.00' }));
  t.like(await snapshot(b), { status: 'cancelled', total_price: '55.00' });
});

test.serial('consume_booking_events (real Unleash) switches the consumer: off → the backbone skips booking events', async (t) => {
  const consumer = paymentModule(app).consumer!;
  t.deepEqual(consumer.bindings, ['booking.*']);
  t.is(consumer.queue, 'payment-service.events');
  t.false(consumer.enabled!('booking.created'));
  await app.setFlag('consume_booking_events', true);
  t.true(consumer.enabled!('booking.created'));
  t.true(consumer.enabled!('booking.cancelled'));
  await app.setFlag('consume_booking_events', false);
  t.false(consumer.enabled!('booking.expired'));
});

test.serial('the amount source follows use_booking_snapshot / verify_booking_snapshot (real Unleash); a planted mismatch is counted and falls back to the direct read', async (t) => {
  const u = await user();
  /** a booking whose shared row says 100000.00 and whose snapshot says `snapshot` */
  const booking = async (snapshotPrice: string | undefined) => {
    const b = await legacyBooking(legacyDb(app), { userId: u.id, totalPrice: '100000.00' });
    if (snapshotPrice) await deliver(app, bookingCreatedEvent({ bookingId: b.bookingId, userId: u.id, totalPrice: snapshotPrice }));
    return b.bookingId;
  };
  const amount = async (bookingId: string) => {
    const r = await pay(app, { token: u.access, bookingId });
    t.is(r.status, 201, JSON.stringify(r.body));
    return r.body.amount as string;
  };
  const checks = (result: string) => counterValue(app, 'payment_booking_snapshot_checks_total', { result });

  t.is(await amount(await booking('80000.00')), '100000.00', 'flags off: the shared bookings table (old coupling)');
  const onlySnapshot = randomUUID();
  await deliver(app, bookingCreatedEvent({ bookingId: onlySnapshot, userId: u.id, totalPrice: '70000.00' }));
  t.is((await pay(app, { token: u.access, bookingId: onlySnapshot })).status, 404, 'flags off: a snapshot alone is not read');

  await app.setFlag('use_booking_snapshot', true);
  t.is(await amount(await booking('80000.00')), '80000.00', 'use_booking_snapshot: the snapshot');
  t.is(await amount(onlySnapshot), '70000.00', 'the shared table is not needed any more');
  t.is((await pay(app, { token: u.access, bookingId: await booking(undefined) })).status, 404, 'no snapshot yet → 404 (seed §3.4)');

  await app.setFlag('verify_booking_snapshot', true);
  const [mismatch0, match0, missing0] = [await checks('mismatch'), await checks('match'), await checks('snapshot_missing')];
  t.is(await amount(await booking('80000.00')), '100000.00', 'verify: a mismatch uses the direct read');
  t.is(await checks('mismatch'), mismatch0 + 1);
  t.is(await amount(await booking('100000.00')), '100000.00');
  t.is(await checks('match'), match0 + 1);
  t.is(await amount(await booking(undefined)), '100000.00', 'verify: a missing snapshot falls back too');
  t.is(await checks('snapshot_missing'), missing0 + 1);

  await app.setFlag('use_booking_snapshot', false);
  t.is(await amount(await booking('80000.00')), '100000.00', 'verify without use: the direct read, compared');
  t.is(await checks('mismatch'), mismatch0 + 2);
  const metrics = await (await fetch(`${app.url}/metrics`)).text();
  t.regex(metrics, /payment_booking_snapshot_checks_total\{result="mismatch"\} [1-9]/);
  await app.setFlag('verify_booking_snapshot', false);
});

test.serial('a snapshot path refuses what the direct path would: not yours → 404, cancelled or expired → 409', async (t) => {
  const [u, stranger] = [await user(), await user()];
  await app.setFlag('use_booking_snapshot', true);
  try {
    const mine = randomUUID();
    await deliver(app, bookingCreatedEvent({ bookingId: mine, userId: u.id, totalPrice: '5.00' }));
    t.is((await pay(app, { token: stranger.access, bookingId: mine })).status, 404);
    await deliver(app, bookingEndedEvent('booking.cancelled', { bookingId: mine, userId: u.id }));
    const cancelled = await pay(app, { token: u.access, bookingId: mine });
    t.like(cancelled.body, { status: 409, booking_status: 'cancelled' });
    const lapsed = randomUUID();
    await deliver(app, bookingCreatedEvent({ bookingId: lapsed, userId: u.id, totalPrice: '5.00', expiresAt: new Date(Date.now() - 1000) }));
    t.like((await pay(app, { token: u.access, bookingId: lapsed })).body, { status: 409, booking_status: 'expired' });
  } finally {
    await app.setFlag('use_booking_snapshot', false);
  }
});

test.serial('booking.cancelled after a completed payment refunds it exactly once, whatever is redelivered', async (t) => {
  const u = await user();
  const b = await legacyBooking(legacyDb(app), { userId: u.id, totalPrice: '120000.00' });
  const paid = await pay(app, { token: u.access, bookingId: b.bookingId });
  t.is(paid.body.status, 'completed');
  const cancelled = bookingEndedEvent('booking.cancelled', { bookingId: b.bookingId, userId: u.id });
  t.is(await deliver(app, cancelled), 'handled');
  const payment = await paymentsDb(app).withSchema('payments').table('payments').where({ id: paid.body.id }).first();
  t.is(payment.status, 'refunded');
  t.is((await ledger(paymentsDb(app), { charge: paid.body.id })).refunds, 1);
  const refundedEvents = async () =>
    ((await paymentsDb(app).withSchema('payments').table('outbox').where({ event_type: 'payment.refunded' }).select('envelope')) as { envelope: { payload: Record<string, unknown> } }[])
      .map((r) => r.envelope.payload)
      .filter((p) => p['payment_id'] === paid.body.id);
  const [refunded] = await refundedEvents();
  t.like(refunded, { booking_id: b.bookingId, user_id: u.id, refund_amount: '120000.00', currency: 'VND', reason: 'booking_cancelled' });

  t.is(await deliver(app, cancelled), 'duplicate', 'the same event again: the inbox absorbs it');
  t.is(await deliver(app, bookingEndedEvent('booking.cancelled', { bookingId: b.bookingId, userId: u.id })), 'handled', 'a second cancellation event');
  await paymentsDb(app).transaction((trx) => paymentModule(app).consumer!.handlers['booking.cancelled']!(cancelled, trx)); // past the inbox
  t.is((await ledger(paymentsDb(app), { charge: paid.body.id })).refunds, 1, 'refunded once');
  t.is((await refundedEvents()).length, 1, 'payment.refunded once');
  t.deepEqual(await outboxTypes(paymentsDb(app), paid.body.id), ['payment.initiated', 'payment.completed', 'payment.refunded']);
});

test.serial('booking.expired refunds a completed payment too; a booking without payments or with a failed one is left alone', async (t) => {
  const u = await user();
  const b = await legacyBooking(legacyDb(app), { userId: u.id });
  const paid = await pay(app, { token: u.access, bookingId: b.bookingId });
  await deliver(app, bookingEndedEvent('booking.expired', { bookingId: b.bookingId, userId: u.id }));
  t.like(await paymentsDb(app).withSchema('payments').table('payments').where({ id: paid.body.id }).first(), { status: 'refunded' });

  const declinedBooking = await legacyBooking(legacyDb(app), { userId: u.id });
  const declined = await pay(app, { token: u.access, bookingId: declinedBooking.bookingId, card: 'tok_decline' });
  const before = await ledger(paymentsDb(app));
  await deliver(app, bookingEndedEvent('booking.cancelled', { bookingId: declinedBooking.bookingId, userId: u.id }));
  await deliver(app, bookingEndedEvent('booking.cancelled', { bookingId: randomUUID(), userId: u.id }));
  t.is((await ledger(paymentsDb(app))).refunds, before.refunds, 'no refund without a completed payment');
  t.like(await paymentsDb(app).withSchema('payments').table('payments').where({ id: declined.body.id }).first(), { status: 'failed' });
});
