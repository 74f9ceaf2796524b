import { randomBytes, randomUUID } from 'node:crypto';
import test from 'ava';
import amqplib from 'amqplib';
import { envelopeSchema, type Envelope } from '../../../src/platform/events/envelope.ts';
import { registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { createTestVhost, waitFor, type TestVhost } from '../../helpers/events.ts';
import { bookingCreatedEvent, bookingEndedEvent, ledger, pay, paymentsDb } from './fixtures.ts';

/**
 * Over a real RabbitMQ (a vhost of its own): booking events published to domain.events reach payment's
 * queue (payment-service.events, bound to booking.*) through the platform's consumer and inbox; payment's
 * outbox is relayed to domain.events on a confirm channel. The snapshot path end to end: booking.created
 * → snapshot → POST /payments → payment.completed on the wire → booking.cancelled (delivered twice) →
 * one refund and one payment.refunded.
 */
let vhost: TestVhost;
let amqp: amqplib.ChannelModel;
let ch: amqplib.Channel;
let app: TestApp;
const observed = `payment-observer-${randomBytes(4).toString('hex')}`;

test.before(async () => {
  vhost = await createTestVhost();
  amqp = await amqplib.connect(vhost.url);
  ch = await amqp.createChannel();
  await ch.assertExchange('domain.events', 'topic', { durable: true });
  await ch.assertQueue(observed, { durable: false });
  await ch.bindQueue(observed, 'domain.events', 'payment.*');
  app = await startTestApp({
    env: {
      MODULES: 'auth,payment',
      STORE_PAYMENT: 'own',
      AMQP_URL: vhost.url,
      EVENTS_RELAY_POLL_MS: '100',
      EVENTS_RETRY_DELAYS_MS: '100,200',
      FLAGS_BOOTSTRAP: 'consume_booking_events=true,use_booking_snapshot=true,use_payment_events=true,publish_payment_events=true',
    },
  });
  // the consumer declares its queue when its channel comes up
  await waitFor('payment-service.events declared', async () => (await amqp.createChannel().then(async (c) => {
    try {
      await c.checkQueue('payment-service.events');
      return true;
    } finally {
      await c.close().catch(() => undefined);
    }
  }).catch(() => false)));
});
test.after.always(async () => {
  await app?.stop();
  await amqp?.close().catch(() => undefined);
  await vhost?.drop();
});

const publish = (e: Envelope) =>
  ch.publish('domain.events', e.event_type, Buffer.from(JSON.stringify(e)), { persistent: true, messageId: e.event_id, contentType: 'application/json' });

/** the next payment.* events on the wire for this payment, in order */
async function nextPaymentEvents(paymentId: string, n: number): Promise<Envelope[]> {
  const out: Envelope[] = [];
  await waitFor(`${n} payment events for ${paymentId}`, async () => {
    for (;;) {
      const msg = await ch.get(observed, { noAck: true });
      if (!msg) break;
      const e = envelopeSchema.parse(JSON.parse(msg.content.toString())) as Envelope;
      if (e.payload['payment_id'] === paymentId) out.push(e);
    }
    return out.length >= n;
  }, 20_000);
  return out;
}

test('booking.created over the broker → snapshot → payment → payment.completed on the wire → booking.cancelled twice → one refund', async (t) => {
  const user = await registerAndLogin(app.url, 'e2e');
  const created = bookingCreatedEvent({ bookingId: randomUUID(), userId: user.id, totalPrice: '333000.00' });
  const bookingId = created.payload['booking_id'] as string;
  publish(created);
  const snap = await waitFor('the booking snapshot', async () => paymentsDb(app).withSchema('payments').table('booking_snapshots').where({ booking_id: bookingId }).first());
  t.is(snap.total_price, '333000.00');
  t.truthy(await paymentsDb(app).withSchema('payments').table('inbox').where({ event_id: created.event_id }).first(), 'recorded in payments.inbox');

  const res = await pay(app, { token: user.access, bookingId });
  t.is(res.status, 201);
  t.like(res.body, { status: 'completed', amount: '333000.00' });
  const [initiated, completed] = await nextPaymentEvents(res.body.id, 2);
  t.is(initiated!.event_type, 'payment.initiated');
  t.is(completed!.event_type, 'payment.completed');
  t.like(completed!.payload, { booking_id: bookingId, user_id: user.id, amount: '333000.00', gateway: 'fake' });
  t.is(completed!.source, 'payment');

  const cancelled = bookingEndedEvent('booking.cancelled', { bookingId, userId: user.id });
  publish(cancelled);
  publish(cancelled); // redelivered: the inbox absorbs it
  const [refunded] = await nextPaymentEvents(res.body.id, 1);
  t.is(refunded!.event_type, 'payment.refunded');
  t.like(refunded!.payload, { refund_amount: '333000.00', reason: 'booking_cancelled' });
  await waitFor('the redelivered booking.cancelled absorbed by the inbox', async () => {
    const consumed = await app.app.metrics.registry.getSingleMetric('events_consumed_total')?.get();
    return consumed?.values.some((v) => v.labels['event_type'] === 'booking.cancelled' && v.labels['outcome'] === 'duplicate' && v.value >= 1);
  });
  t.is((await ledger(paymentsDb(app), { charge: res.body.id })).refunds, 1);
  t.is((await paymentsDb(app).withSchema('payments').table('outbox').where({ event_type: 'payment.refunded' })).length, 1);
  t.is((await ch.checkQueue(observed)).messageCount, 0, 'no second payment.refunded on the wire');
});
