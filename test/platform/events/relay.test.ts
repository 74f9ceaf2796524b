import test from 'ava';
import { createPool, type Knex } from '../../../src/platform/db.ts';
import { Broker } from '../../../src/platform/events/broker.ts';
import { EventConsumer } from '../../../src/platform/events/consumer.ts';
import { eventMetrics } from '../../../src/platform/events/event-metrics.ts';
import { appendToOutbox } from '../../../src/platform/events/outbox.ts';
import { buildEnvelope } from '../../../src/platform/events/envelope.ts';
import { AmqpOutboxPublisher } from '../../../src/platform/events/publisher.ts';
import { OutboxRelay, type RelayOptions } from '../../../src/platform/events/relay.ts';
import type { Topology } from '../../../src/platform/events/topology.ts';
import { createMetrics, type Metrics } from '../../../src/platform/metrics.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import {
  appendTestEvents,
  count,
  createScratchRig,
  createTestVhost,
  drainQueue,
  testEventV1,
  testLogger,
  waitFor,
  type TestVhost,
} from '../../helpers/events.ts';

let db: TestDatabase;
let vhost: TestVhost;
const cleanup: (() => Promise<unknown>)[] = [];

test.before(async () => {
  [db, vhost] = await Promise.all([createTestDatabase({ migrated: false }), createTestVhost()]);
});
test.after.always(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  await vhost?.drop();
  await db?.drop();
});

async function broker(): Promise<Broker> {
  const b = new Broker({ url: vhost.url, logger: testLogger(), reconnectMs: 500, heartbeatSeconds: 5 });
  cleanup.push(() => b.close());
  if (!(await b.waitForConnection(10_000))) throw new Error('no broker');
  return b;
}

/** A scratch module schema and its own exchange + queue (bound to everything). */
const scratch = () => createScratchRig(db.url, vhost.url, { bindings: ['#'], cleanup });

async function relay(s: { db: Knex; schema: string; topology: Topology }, overrides: Partial<RelayOptions> & { metrics?: Metrics } = {}) {
  const b = await broker();
  const publisher = new AmqpOutboxPublisher({ broker: b, topology: s.topology, timeoutMs: 5_000, logger: testLogger() });
  cleanup.push(() => publisher.close());
  await waitFor('the publisher channel', async () => publisher.ready());
  const metrics = overrides.metrics ?? createMetrics();
  const r = new OutboxRelay({
    db: s.db,
    schema: s.schema,
    publisher,
    batchSize: 50,
    pollIntervalMs: 100,
    maxAttempts: 5,
    disabledDomains: () => [],
    logger: testLogger(),
    ...overrides,
    metrics: eventMetrics(metrics),
  });
  cleanup.push(() => r.stop());
  return { relay: r, metrics };
}

async function publishedTotal(metrics: Metrics): Promise<number> {
  const m = await metrics.registry.getSingleMetric('events_published_total')?.get();
  return (m?.values ?? []).reduce((a, v) => a + v.value, 0);
}

test('happy path: committed rows are published once (confirmed), consumed, applied once; a rolled-back change publishes nothing', async (t) => {
  const s = await scratch();
  const { relay: r, metrics } = await relay(s);
  const consumer = new EventConsumer({
    broker: await broker(),
    db: s.db,
    inboxSchema: s.schema,
    consumer: {
      queue: s.queue,
      bindings: ['#'],
      handlers: { 'test.happened': async (e, trx) => void (await trx.table('effects').insert({ event_id: e.event_id, n: e.payload['n'] })) },
    },
    topology: s.topology,
    prefetch: 20,
    maxAttempts: 3,
    logger: testLogger(),
  });
  cleanup.push(() => consumer.stop());
  await consumer.start();
  await r.start();

  const committed = await appendTestEvents(s.db, s.schema, 120, { perTx: 7 });
  const rolledBack = buildEnvelope(testEventV1, { n: -1 }, { source: 'test' });
  await t.throwsAsync(
    s.db.transaction(async (trx) => {
      await appendToOutbox(trx, s.schema, rolledBack);
      throw new Error('the state change failed');
    }),
    { message: 'the state change failed' },
  );

  await waitFor('all effects', async () => (await count(s.db, 'SELECT count(*) AS n FROM effects')) === 120);
  await waitFor('all marked', async () => (await count(s.db, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')) === 0);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM outbox'), 120);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM outbox WHERE attempts <> 1'), 0, 'each row published in one attempt');
  t.is(await publishedTotal(metrics), 120, 'each row confirmed once');
  t.is(await count(s.db, 'SELECT count(DISTINCT event_id) AS n FROM effects'), 120);
  t.deepEqual(
    (await s.db('effects').select('event_id')).map((r: { event_id: string }) => r.event_id).sort(),
    committed.map((e) => e.event_id).sort(),
  );
  t.is(await count(s.db, 'SELECT count(*) AS n FROM effects WHERE event_id = ?', [rolledBack.event_id]), 0);
  t.deepEqual((await r.lag()).pending, 0);
});

test('the AMQP message: persistent JSON envelope, messageId = event_id, correlation in properties and headers', async (t) => {
  const s = await scratch();
  const { relay: r } = await relay(s);
  const [e] = await appendTestEvents(s.db, s.schema, 1, { correlationId: 'corr-relay-1' });
  await r.relayOnce();
  const [m] = await drainQueue(vhost.url, s.queue);
  t.truthy(m);
  t.deepEqual(JSON.parse(m!.content.toString()), JSON.parse(JSON.stringify(e)));
  t.is(m!.properties.messageId, e!.event_id);
  t.is(m!.properties.deliveryMode, 2);
  t.is(m!.properties.contentType, 'application/json');
  t.is(m!.properties.correlationId, 'corr-relay-1');
  t.is(m!.properties.headers?.['x-correlation-id'], 'corr-relay-1');
  t.is(m!.properties.type, 'test.happened');
  t.is(m!.fields.routingKey, 'test.happened');
});

test('NOTIFY wakes the relay: an insert is published long before the next poll', async (t) => {
  const s = await scratch();
  const { relay: r } = await relay(s, { pollIntervalMs: 120_000 });
  await r.start();
  await waitFor('the relay to be listening', async () => count(s.db, `SELECT count(*) AS n FROM pg_stat_activity WHERE query = 'LISTEN "outbox_${s.schema}"'`));
  await appendTestEvents(s.db, s.schema, 3);
  await waitFor('publication', async () => (await count(s.db, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL')) === 3, 15_000);
  t.is((await drainQueue(vhost.url, s.queue)).length, 3);
});

test('a switched-off domain stays in the outbox (held, counted in the lag) and goes out once switched on', async (t) => {
  const s = await scratch();
  let off = ['test'];
  const { relay: r, metrics } = await relay(s, { disabledDomains: () => off });
  await appendTestEvents(s.db, s.schema, 5);
  await appendTestEvents(s.db, s.schema, 3, { type: 'other.thing' });
  while ((await r.relayOnce()).claimed > 0);
  t.is(await count(s.db, `SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND event_type = 'test.happened'`), 5);
  t.is(await count(s.db, `SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`), 5);
  const lag = await r.lag();
  t.is(lag.held, 5);
  t.is(lag.pending, 0);
  t.is(lag.oldestPendingAgeSeconds, 0);
  await r.start();
  const text = await metrics.registry.metrics();
  t.regex(text, new RegExp(`outbox_held_events\\{schema="${s.schema}"\\} 5`));
  t.regex(text, new RegExp(`outbox_pending_events\\{schema="${s.schema}"\\} 0`));
  t.is((await drainQueue(vhost.url, s.queue)).length, 3);

  off = [];
  await waitFor('held rows to go out', async () => (await count(s.db, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')) === 0);
  const after = await drainQueue(vhost.url, s.queue);
  t.is(after.length, 5);
  t.true(after.every((m) => m.fields.routingKey === 'test.happened'));
  t.deepEqual(await r.lag(), { pending: 0, held: 0, parked: 0, oldestPendingAgeSeconds: 0 });
});

test('pending lag is reported while the broker is unreachable (a relay that cannot publish claims nothing)', async (t) => {
  const s = await scratch();
  const down = new Broker({ url: 'amqp://guest:guest@127.0.0.1:1', logger: testLogger(), reconnectMs: 60_000, heartbeatSeconds: 5 });
  cleanup.push(() => down.close());
  const publisher = new AmqpOutboxPublisher({ broker: down, topology: s.topology, timeoutMs: 1_000, logger: testLogger() });
  const r = new OutboxRelay({ db: s.db, schema: s.schema, publisher, batchSize: 10, pollIntervalMs: 50, maxAttempts: 5, disabledDomains: () => [], logger: testLogger() });
  await appendTestEvents(s.db, s.schema, 4);
  await s.db.raw(`UPDATE outbox SET created_at = now() - interval '90 seconds'`);
  t.deepEqual(await r.relayOnce(), { claimed: 0, published: 0, failed: 0 });
  const lag = await r.lag();
  t.is(lag.pending, 4);
  t.true(lag.oldestPendingAgeSeconds >= 90);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM outbox WHERE attempts > 0'), 0, 'no attempts burnt while the broker is down');
});

test('an invalid outbox row is never published: attempts and last_error grow, then it is parked; others flow', async (t) => {
  const s = await scratch();
  const { relay: r } = await relay(s, { maxAttempts: 2 });
  const [good] = await appendTestEvents(s.db, s.schema, 1);
  await s.db.raw(
    `INSERT INTO outbox (event_id, event_type, routing_key, envelope) VALUES (gen_random_uuid(), 'test.happened', 'test.happened', '{"oops": true}')`,
  );
  await r.relayOnce();
  await r.relayOnce();
  t.deepEqual(await r.relayOnce(), { claimed: 0, published: 0, failed: 0 });
  const bad = await s.db('outbox').whereRaw(`jsonb_exists(envelope, 'oops')`).first();
  t.is(bad.attempts, 2);
  t.is(bad.published_at, null);
  t.regex(bad.last_error, /invalid envelope/);
  t.like(await r.lag(), { pending: 1, parked: 1 });
  const msgs = await drainQueue(vhost.url, s.queue);
  t.deepEqual(msgs.map((m) => m.properties.messageId), [good!.event_id]);
});

test('two relays on one outbox never publish a row twice (FOR UPDATE SKIP LOCKED)', async (t) => {
  const s = await scratch();
  const second = createPool(db.url, { searchPath: s.schema, max: 4 });
  cleanup.push(() => second.destroy());
  await appendTestEvents(s.db, s.schema, 600, { perTx: 100 });
  const a = await relay(s, { batchSize: 20, pollIntervalMs: 20 });
  const b = await relay({ ...s, db: second }, { batchSize: 20, pollIntervalMs: 20 });
  await Promise.all([a.relay.start(), b.relay.start()]);
  await waitFor('all published', async () => (await count(s.db, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')) === 0);
  const msgs = await drainQueue(vhost.url, s.queue);
  t.is(msgs.length, 600);
  t.is(new Set(msgs.map((m) => m.properties.messageId)).size, 600);
  const [pa, pb] = [await publishedTotal(a.metrics), await publishedTotal(b.metrics)];
  t.is(pa + pb, 600);
  t.true(pa > 0 && pb > 0, `both relays took part (${pa} + ${pb})`);
});
