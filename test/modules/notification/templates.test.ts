import { randomUUID } from 'node:crypto';
import test from 'ava';
import { bookingCancelledV1, bookingCreatedV1, bookingExpiredV1 } from '../../../src/modules/booking/index.ts';
import type { NotificationModule } from '../../../src/modules/notification/index.ts';
import { TemplateError } from '../../../src/modules/notification/internal/errors.ts';
import { TEMPLATE_VARIABLES } from '../../../src/modules/notification/internal/notification-content.ts';
import { checkTemplate, render } from '../../../src/modules/notification/internal/template-renderer.ts';
import { createTemplateStore } from '../../../src/modules/notification/internal/template-store.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { buildEnvelope, type Envelope } from '../../../src/platform/events/envelope.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { bookingCreatedPayload, envelopeOf, handle } from './support.ts';

let app: TestApp;
let module: NotificationModule;
let db: Knex;
const templates = createTemplateStore();

test.before(async () => {
  app = await startTestApp({ env: { ROLE: 'web', STORE_NOTIFICATION: 'own' } });
  module = app.app.notification!;
  db = app.app.databases.forModule('notification');
});
test.after.always(async () => {
  await app?.stop();
});

const rowsFor = (event: Envelope) => db.withSchema('notifications').table('notifications').where({ event_id: event.event_id }).orderBy('id');

test('renderer: strict, logic-less, no header injection', (t) => {
  t.is(render('Hi {{ name }}, {{name}}!', { name: 'Ann' }), 'Hi Ann, Ann!');
  t.throws(() => render('Hi {{nobody}}', { name: 'Ann' }), { instanceOf: TemplateError, message: /unknown variable \{\{nobody\}\}/ });
  t.throws(() => render('Hi {{name.constructor}}', { name: 'Ann' }), { instanceOf: TemplateError }, 'no property paths');
  t.throws(() => render('Hi {{constructor}}', {}), { instanceOf: TemplateError }, 'no prototype lookups');
  t.throws(() => render('Hi {{ name }', { name: 'x' }), { instanceOf: TemplateError, message: /not a \{\{name\}\} placeholder/ });
  t.is(render('Subject: {{name}}', { name: 'Ann\r\nBcc: evil@example.com' }, { singleLine: true }), 'Subject: Ann Bcc: evil@example.com');
  t.is(render('{{a}}', { a: 'x\u0000y\u001bz\u2028w\r\nv' }), 'xyzw\nv', 'control characters dropped, CRLF normalised');
  t.deepEqual(checkTemplate('{{a}} {{b}} }}', ['a']), ['has "{{" or "}}" that is not a {{name}} placeholder', 'uses unknown variable {{b}}']);
});

test.serial('every consumed event type has a seeded, enabled template that uses only the variables its event provides', async (t) => {
  const stored = await templates.list(db);
  t.deepEqual(stored.map((s) => s.eventType).sort(), Object.keys(TEMPLATE_VARIABLES).sort());
  for (const tpl of stored) {
    t.true(tpl.enabled, tpl.eventType);
    t.is(tpl.channel, 'email');
    t.deepEqual([...checkTemplate(tpl.subject, TEMPLATE_VARIABLES[tpl.eventType]!), ...checkTemplate(tpl.body, TEMPLATE_VARIABLES[tpl.eventType]!)], [], tpl.eventType);
  }
});

test.serial('each domain event becomes the right notification; later events find movie and user through the booking.created snapshot', async (t) => {
  const userId = randomUUID();
  await handle(module, db, envelopeOf('user.created', { user_id: userId, email: 'cat@example.com', full_name: 'Cat Alog' }));
  const created = buildEnvelope(bookingCreatedV1, bookingCreatedPayload(userId, 'cat@example.com'), { source: 'booking' });
  const bookingId = created.payload.booking_id;
  const now = new Date().toISOString();
  const ref = bookingId.slice(0, 8).toUpperCase();
  const paymentId = randomUUID();
  const cases: [Envelope, string, string, RegExp][] = [
    [created, 'booking_pending', 'Complete your payment: Dune: Part Three', /Seats: A1, A2\nTotal: 240000\.00 VND/],
    [envelopeOf('booking.confirmed', { booking_id: bookingId, user_id: userId, confirmed_at: now }), 'booking_confirmed', 'Your tickets: Dune: Part Three', /Show this email at the entrance\.\n\nDune: Part Three\nCGV Vincom, Screen 5\n2026-01-24 19:00 UTC\nSeats: A1, A2/],
    [envelopeOf('payment.completed', { payment_id: paymentId, booking_id: bookingId, user_id: userId, amount: 240000, currency: 'VND', transaction_id: 'txn-123', completed_at: now }), 'payment_receipt', 'Receipt for your payment of 240000 VND', /Transaction: txn-123/],
    // seed §8.4.2: payment.failed / refunded carry no user_id — the snapshot knows whose booking it is
    [envelopeOf('payment.failed', { payment_id: paymentId, booking_id: bookingId, reason: 'card declined', failed_at: now }), 'payment_failed', 'Your payment did not go through', new RegExp(`booking ${ref} \\(Dune: Part Three\\) failed: card declined\\.`)],
    [envelopeOf('payment.refunded', { payment_id: paymentId, booking_id: bookingId, refund_amount: '240000.00', refunded_at: now }), 'payment_refunded', 'Refund of 240000.00 VND on its way', /we refunded 240000\.00 VND/],
    [buildEnvelope(bookingCancelledV1, { booking_id: bookingId, user_id: userId, showtime_id: randomUUID(), seat_ids: [], reason: 'payment failed', cancelled_at: now, refund_required: true }, { source: 'booking' }), 'booking_cancelled', 'Booking cancelled: Dune: Part Three', /has been cancelled \(payment failed\)\.[\s\S]*Your payment will be refunded\./],
    [buildEnvelope(bookingExpiredV1, { booking_id: bookingId, user_id: userId, showtime_id: randomUUID(), seat_ids: [randomUUID()], expired_at: now }, { source: 'booking' }), 'booking_expired', 'Booking expired: Dune: Part Three', /has expired and the seats were released/],
  ];
  for (const [event, type, subject, body] of cases) {
    await handle(module, db, event);
    const rows = await rowsFor(event);
    t.is(rows.length, 1, event.event_type);
    t.like(rows[0], { user_id: userId, type, subject, status: 'pending', recipient: 'cat@example.com', event_type: event.event_type }, event.event_type);
    t.regex(rows[0].message, body, event.event_type);
    t.true(rows[0].message.startsWith('Hi Cat Alog,'), event.event_type);
    t.false(`${rows[0].subject}${rows[0].message}`.includes('{{'), event.event_type);
  }
});

test.serial('showtime.cancelled notifies every affected booking it knows; events naming nobody are dropped', async (t) => {
  const [u1, u2] = [randomUUID(), randomUUID()];
  const b1 = bookingCreatedPayload(u1, 'one@example.com');
  const b2 = bookingCreatedPayload(u2, 'two@example.com', { showtime_id: b1.showtime_id });
  for (const b of [b1, b2]) await handle(module, db, envelopeOf('booking.created', b));
  const cancelled = envelopeOf('showtime.cancelled', { showtime_id: b1.showtime_id, reason: 'projector broke', affected_bookings: [b1.booking_id, b2.booking_id, randomUUID()] });
  await handle(module, db, cancelled);
  const rows = await rowsFor(cancelled);
  t.deepEqual(rows.map((r: { user_id: string }) => r.user_id).sort(), [u1, u2].sort());
  t.true(rows.every((r: { subject: string; message: string }) => r.subject === 'Showtime cancelled: Dune: Part Three' && r.message.includes('(projector broke)')));

  const orphan = envelopeOf('payment.failed', { payment_id: randomUUID(), booking_id: randomUUID(), reason: 'declined' });
  await handle(module, db, orphan);
  t.is((await rowsFor(orphan)).length, 0);
  const metric = await app.app.metrics.registry.getSingleMetric('notifications_unroutable_total')?.get();
  t.is(metric?.values.find((v) => v.labels['event_type'] === 'payment.failed')?.value, 1);
});

test.serial('a template that cannot render fails its notification visibly instead of the event', async (t) => {
  const original = (await templates.find(db, 'booking.expired'))!;
  await templates.update(db, 'booking.expired', { subject: 'Expired {{movie_titel}}', body: original.body });
  try {
    const userId = randomUUID();
    await handle(module, db, envelopeOf('user.created', { user_id: userId, email: 'tpl@example.com', full_name: null }));
    const e = envelopeOf('booking.expired', { booking_id: randomUUID(), user_id: userId });
    await handle(module, db, e);
    const [row] = await rowsFor(e);
    t.like(row, { status: 'failed', type: 'booking_expired' });
    t.regex(row.status_reason, /^template error: .*\{\{movie_titel\}\}/);
    t.is(await module.queues![0]!.getJobState(row.id), 'unknown', 'not queued');
    t.is((await templates.find(db, 'booking.expired'))?.version, original.version + 1);
  } finally {
    await templates.update(db, 'booking.expired', { subject: original.subject, body: original.body });
  }
});
