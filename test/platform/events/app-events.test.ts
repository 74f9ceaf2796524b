import { randomBytes } from 'node:crypto';
import test from 'ava';
import amqplib from 'amqplib';
import { envelopeSchema } from '../../../src/platform/events/envelope.ts';
import { api, newUser, startTestApp, type TestApp } from '../../helpers/app.ts';
import { count, createTestVhost, waitFor, type TestVhost } from '../../helpers/events.ts';

const cleanup: (() => Promise<unknown>)[] = [];

test.after.always(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
});

/**
 * An app on a vhost of its own (every app declares the same module queues, e.g. movie-service.events: two
 * apps on one vhost would compete for each other's events), and a queue bound to `user.*` there.
 */
async function appWithUserQueue(options: { env?: Record<string, string>; unleash?: boolean } = {}) {
  const vhost: TestVhost = await createTestVhost();
  cleanup.push(() => vhost.drop());
  const amqp = await amqplib.connect(vhost.url);
  cleanup.push(() => amqp.close());
  const queue = `user-events-${randomBytes(4).toString('hex')}`;
  const ch = await amqp.createChannel();
  await ch.assertExchange('domain.events', 'topic', { durable: true });
  await ch.assertQueue(queue, { durable: false, autoDelete: false });
  await ch.bindQueue(queue, 'domain.events', 'user.*');
  const app = await startTestApp({
    env: { AMQP_URL: vhost.url, EVENTS_RELAY_POLL_MS: '100', ...options.env },
    ...(options.unleash ? { unleash: true } : {}),
  });
  cleanup.push(() => app.stop());
  const next = () => waitFor(`a message on ${queue}`, async () => ch.get(queue, { noAck: true }), 15_000);
  return { app, ch, queue, next };
}

test('user.created end to end: register over HTTP → the §8.4.1 envelope on a queue bound to user.*, with the request correlation id', async (t) => {
  const { app, next } = await appWithUserQueue({ env: { FLAGS_BOOTSTRAP: 'publish_user_events=true' } });
  const user = newUser('evt');
  const reg = await api(app.url, 'POST', '/api/v1/auth/register', { body: user, headers: { 'x-correlation-id': 'corr-e2e-user-1' } });
  t.is(reg.status, 201);
  const msg = await next();
  const envelope = envelopeSchema.parse(JSON.parse(msg.content.toString()));
  t.is(envelope.event_type, 'user.created');
  t.is(envelope.event_version, '1.0');
  t.is(envelope.correlation_id, 'corr-e2e-user-1');
  t.is(envelope.causation_id, null);
  t.is(envelope.payload['user_id'], reg.body.id);
  t.is(envelope.payload['email'], user.email);
  t.false(JSON.stringify(envelope).includes(user.password));
  t.is(msg.fields.routingKey, 'user.created');
  t.is(msg.properties.messageId, envelope.event_id);
  t.is(msg.properties.correlationId, 'corr-e2e-user-1');
  const ready = await api(app.url, 'GET', '/health/ready');
  t.is(ready.status, 200);
  t.is(ready.body.checks.rabbitmq?.status, 'ok');
});

test('publish_user_events off: user.created waits in auth.outbox; switched on through Unleash, it is published', async (t) => {
  const { app, ch, queue, next } = await appWithUserQueue({ unleash: true });
  t.false(app.app.flags.isEnabled('publish_user_events'));
  const reg = await api(app.url, 'POST', '/api/v1/auth/register', { body: newUser('gated') });
  t.is(reg.status, 201);
  const relay = app.app.events?.relays.find((r) => r.name === 'outbox-relay:auth');
  t.truthy(relay);
  // three batches of the relay after the user's row committed: each could have (wrongly) published it
  const after = relay!.batches;
  await waitFor('three relay batches', () => relay!.batches >= after + 3);
  t.like(await relay!.lag(), { held: 1, pending: 0 });
  t.is((await ch.checkQueue(queue)).messageCount, 0);
  const dbUser = await import('../../../src/platform/db.ts').then((m) => m.createPool(app.db.url, { max: 1 }));
  try {
    t.is(await count(dbUser, `SELECT count(*) AS n FROM auth.outbox WHERE event_type = 'user.created' AND published_at IS NULL`), 1);
    await app.setFlag('publish_user_events', true);
    const msg = await next();
    const envelope = envelopeSchema.parse(JSON.parse(msg.content.toString()));
    t.is(envelope.event_type, 'user.created');
    t.is(envelope.payload['user_id'], reg.body.id);
    // the relay marks the row once the broker confirms, which may be after the message reached the queue
    const unpublished = () => count(dbUser, `SELECT count(*) AS n FROM auth.outbox WHERE published_at IS NULL`);
    await waitFor('the outbox row marked published', async () => (await unpublished()) === 0, 10_000).catch(() => undefined);
    t.is(await unpublished(), 0);
  } finally {
    await dbUser.destroy();
  }
});

test('the app starts without RabbitMQ: ready, rabbitmq reported as degraded, the API serves, events wait in the outbox', async (t) => {
  const app = await startTestApp({
    env: { AMQP_URL: 'amqp://guest:guest@127.0.0.1:1', AMQP_CONNECT_WAIT_MS: '200', FLAGS_BOOTSTRAP: 'publish_user_events=true' },
  });
  cleanup.push(() => app.stop());
  t.is((await api(app.url, 'GET', '/health')).status, 200);
  // the outbox keeps the events until the broker is back: an unready pod would only stop serving (ADR 0076)
  const ready = await api(app.url, 'GET', '/health/ready');
  t.is(ready.status, 200);
  t.true(ready.body.degraded.includes('rabbitmq'));
  t.is(ready.body.checks.rabbitmq.status, 'degraded');
  t.is((await api(app.url, 'POST', '/api/v1/auth/register', { body: newUser('nobroker') })).status, 201);
  t.like(await app.app.events!.relays[0]!.lag(), { pending: 1, held: 0 });
});

test('a web-only process never talks to the broker: no relay, no rabbitmq readiness check', async (t) => {
  const app = await startTestApp({ env: { ROLE: 'web', AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' } });
  cleanup.push(() => app.stop());
  t.is(app.app.events, undefined);
  const ready = await api(app.url, 'GET', '/health/ready');
  t.is(ready.status, 200);
  t.is(ready.body.checks.rabbitmq, undefined);
});
