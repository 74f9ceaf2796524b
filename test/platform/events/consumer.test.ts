import { randomBytes, randomUUID } from 'node:crypto';
import test from 'ava';
import amqplib from 'amqplib';
import { currentContext } from '../../../src/platform/context.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { Broker } from '../../../src/platform/events/broker.ts';
import { EventConsumer } from '../../../src/platform/events/consumer.ts';
import { buildEnvelope, type Envelope } from '../../../src/platform/events/envelope.ts';
import { eventMetrics } from '../../../src/platform/events/event-metrics.ts';
import { declareTopology, type Topology } from '../../../src/platform/events/topology.ts';
import { createMetrics } from '../../../src/platform/metrics.ts';
import type { EventHandler } from '../../../src/platform/module.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { count, createScratchSchema, createTestVhost, drainQueue, testEventV1, testLogger, testTopology, waitFor, type TestVhost } from '../../helpers/events.ts';

let db: TestDatabase;
let vhost: TestVhost;
let broker: Broker;
let raw: amqplib.ChannelModel;
let pub: amqplib.ConfirmChannel;
const cleanup: (() => Promise<unknown>)[] = [];

test.before(async () => {
  [db, vhost] = await Promise.all([createTestDatabase({ migrated: false }), createTestVhost()]);
  broker = new Broker({ url: vhost.url, logger: testLogger(), reconnectMs: 500, heartbeatSeconds: 5 });
  if (!(await broker.waitForConnection(10_000))) throw new Error('no broker');
  raw = await amqplib.connect(vhost.url);
  pub = await raw.createConfirmChannel();
});
test.after.always(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  await raw?.close().catch(() => undefined);
  await broker?.close();
  await vhost?.drop();
  await db?.drop();
});

interface Setup {
  db: Knex;
  schema: string;
  topology: Topology;
  queue: string;
  consumer: EventConsumer;
  metrics: ReturnType<typeof createMetrics>;
  publish(body: Envelope | string | object, routingKey?: string): Promise<void>;
}

/** A scratch module: its own schema, exchange and queue, and a consumer with the given handler. */
async function setup(
  handler: EventHandler,
  options: { prefetch?: number; concurrency?: number; maxAttempts?: number; enabled?: (t: string) => boolean } = {},
): Promise<Setup> {
  const { schema, db: pool } = await createScratchSchema(db.url);
  cleanup.push(() => pool.destroy());
  const id = randomBytes(4).toString('hex');
  const queue = `q-${id}`;
  const topology = testTopology([{ name: queue, bindings: ['test.*'] }], { exchange: `ex-${id}`, deadLetterExchange: `dlx-${id}` });
  await declareTopology(pub, topology);
  const metrics = createMetrics();
  const consumer = new EventConsumer({
    broker,
    db: pool,
    inboxSchema: schema,
    consumer: { queue, bindings: ['test.*'], handlers: { 'test.happened': handler }, ...(options.enabled ? { enabled: options.enabled } : {}) },
    topology,
    prefetch: options.prefetch ?? 10,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    maxAttempts: options.maxAttempts ?? 3,
    logger: testLogger(),
    metrics: eventMetrics(metrics),
  });
  await consumer.start();
  cleanup.push(() => consumer.stop());
  return {
    db: pool,
    schema,
    topology,
    queue,
    consumer,
    metrics,
    async publish(body, routingKey = 'test.happened') {
      const content = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const messageId = typeof body === 'object' && 'event_id' in body ? String(body.event_id) : randomUUID();
      pub.publish(topology.exchange, routingKey, content, { persistent: true, messageId, contentType: 'application/json' });
      await pub.waitForConfirms();
    },
  };
}

const event = (n: number, extra: { poison?: boolean } = {}) => buildEnvelope(testEventV1, { n, ...extra }, { source: 'test' });
const insertEffect: EventHandler = async (e, trx) => void (await trx.table('effects').insert({ event_id: e.event_id, n: e.payload['n'] }));

async function outcome(metrics: Setup['metrics'], name: string): Promise<number> {
  const m = await metrics.registry.getSingleMetric('events_consumed_total')?.get();
  return (m?.values ?? []).filter((v) => v.labels['outcome'] === name).reduce((a, v) => a + v.value, 0);
}

test('a redelivered event is applied once: the inbox row and the effect share one transaction', async (t) => {
  const s = await setup(insertEffect);
  const e = event(1);
  await s.publish(e);
  await s.publish(e);
  await s.publish(event(2));
  await waitFor('both outcomes', async () => (await outcome(s.metrics, 'handled')) === 2 && (await outcome(s.metrics, 'duplicate')) === 1);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM effects'), 2);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM effects WHERE event_id = ?', [e.event_id]), 1);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM inbox'), 2);
});

test('a handler that fails once is retried; its first, rolled-back attempt leaves neither effect nor inbox row', async (t) => {
  let calls = 0;
  const s = await setup(async (e, trx) => {
    calls++;
    await insertEffect(e, trx);
    if (calls === 1) throw new Error('transient');
  });
  const e = event(7);
  await s.publish(e);
  await waitFor('the retry', async () => (await outcome(s.metrics, 'handled')) === 1);
  t.is(calls, 2);
  t.is(await outcome(s.metrics, 'retried'), 1);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM effects WHERE event_id = ?', [e.event_id]), 1);
  t.deepEqual(await drainQueue(vhost.url, `${s.queue}.dlq`), []);
});

test('poison: dead-lettered after N attempts with the reason, while the messages behind it keep flowing', async (t) => {
  const log: string[] = [];
  const s = await setup(
    async (e, trx) => {
      if (e.payload['poison']) {
        log.push('poison');
        throw new Error('cannot digest this');
      }
      log.push('good');
      await insertEffect(e, trx);
    },
    { prefetch: 1, maxAttempts: 3 },
  );
  const poison = event(0, { poison: true });
  await s.publish(poison);
  for (let i = 1; i <= 20; i++) await s.publish(event(i));
  await waitFor('the dead letter', async () => (await outcome(s.metrics, 'dead_lettered')) === 1);
  const dead = await drainQueue(vhost.url, `${s.queue}.dlq`);
  t.is(dead.length, 1);
  t.is(JSON.parse(dead[0]!.content.toString()).event_id, poison.event_id);
  t.is(dead[0]!.properties.headers?.['x-attempts'], 3);
  t.regex(String(dead[0]!.properties.headers?.['x-error']), /cannot digest this/);
  t.is(dead[0]!.properties.headers?.['x-original-routing-key'], 'test.happened');
  t.is(log.filter((l) => l === 'poison').length, 3);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM effects'), 20);
  // with prefetch 1 the good messages were handled between the poison's attempts, not after it
  t.true(log.indexOf('good') < log.lastIndexOf('poison'));
  t.is(await count(s.db, 'SELECT count(*) AS n FROM inbox WHERE event_id = ?', [poison.event_id]), 0);
});

test('malformed messages (not JSON, not an envelope) go straight to the DLQ; the handler never sees them', async (t) => {
  let calls = 0;
  const s = await setup(async () => void calls++);
  await s.publish('{not json');
  await s.publish({ event_type: 'test.happened', payload: {} });
  await waitFor('two malformed', async () => (await outcome(s.metrics, 'malformed')) === 2);
  const dead = await drainQueue(vhost.url, `${s.queue}.dlq`);
  t.is(dead.length, 2);
  for (const d of dead) {
    t.is(d.properties.headers?.['x-attempts'], 1);
    t.regex(String(d.properties.headers?.['x-error']), /^malformed: /);
  }
  t.is(calls, 0);
});

test('handlers run in the event context: events they emit carry its correlation id and name it as cause', async (t) => {
  let seen: { ctx: ReturnType<typeof currentContext>; child: Envelope } | undefined;
  const s = await setup(async () => {
    seen = { ctx: currentContext(), child: buildEnvelope(testEventV1, { n: 2 }, { source: 'test' }) };
  });
  const parent = buildEnvelope(testEventV1, { n: 1 }, { source: 'test', correlationId: 'corr-chain-1' });
  await s.publish(parent);
  await waitFor('the handler', async () => seen);
  t.is(seen!.ctx?.correlationId, 'corr-chain-1');
  t.is(seen!.ctx?.causationId, parent.event_id);
  t.is(seen!.child.correlation_id, 'corr-chain-1');
  t.is(seen!.child.causation_id, parent.event_id);
});

test('a switched-off event type is acknowledged and skipped (no inbox row); once on, events are applied', async (t) => {
  let on = false;
  const s = await setup(insertEffect, { enabled: () => on });
  const off = event(1);
  await s.publish(off);
  await waitFor('the skip', async () => (await outcome(s.metrics, 'disabled')) === 1);
  on = true;
  await s.publish(event(2));
  await waitFor('the effect', async () => (await outcome(s.metrics, 'handled')) === 1);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM inbox WHERE event_id = ?', [off.event_id]), 0);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM effects'), 1);
});

test('stop() lets the message in hand finish and ack; nothing is left to redeliver', async (t) => {
  let started = false;
  const s = await setup(async (e, trx) => {
    started = true;
    await new Promise((r) => setTimeout(r, 300));
    await insertEffect(e, trx);
  });
  await s.publish(event(1));
  await waitFor('the handler to start', async () => started);
  await s.consumer.stop();
  t.is(await count(s.db, 'SELECT count(*) AS n FROM effects'), 1);
  t.deepEqual(await drainQueue(vhost.url, s.queue), []);
});

test('prefetched messages are processed at most `concurrency` at a time (the module pool is shared with HTTP)', async (t) => {
  let active = 0;
  let peak = 0;
  const s = await setup(
    async (e, trx) => {
      peak = Math.max(peak, ++active);
      await new Promise((r) => setTimeout(r, 50));
      await insertEffect(e, trx);
      active--;
    },
    { prefetch: 10, concurrency: 2 },
  );
  for (let i = 0; i < 8; i++) await s.publish(event(i));
  await waitFor('all effects', async () => (await count(s.db, 'SELECT count(*) AS n FROM effects')) === 8);
  t.is(peak, 2);
});

test('a queue deleted under the consumer: the broker cancels it, the channel is replaced, the queue re-declared and consumed', async (t) => {
  const s = await setup(insertEffect);
  const admin = await raw.createChannel();
  await admin.deleteQueue(s.queue);
  await admin.close();
  await waitFor(
    'the queue back with a consumer',
    async () => {
      const c = await raw.createChannel();
      c.on('error', () => undefined); // a 404 closes this probe channel only
      try {
        return (await c.checkQueue(s.queue)).consumerCount === 1;
      } finally {
        await c.close().catch(() => undefined);
      }
    },
    20_000,
    200,
  );
  const e = event(1);
  await s.publish(e);
  await waitFor('the effect', async () => (await count(s.db, 'SELECT count(*) AS n FROM effects')) > 0);
  t.is(await count(s.db, 'SELECT count(*) AS n FROM effects WHERE event_id = ?', [e.event_id]), 1);
});
