import test from 'ava';
import amqplib from 'amqplib';
import { Broker } from '../../src/platform/events/broker.ts';
import { EventConsumer } from '../../src/platform/events/consumer.ts';
import { eventMetrics } from '../../src/platform/events/event-metrics.ts';
import { AmqpOutboxPublisher } from '../../src/platform/events/publisher.ts';
import { OutboxRelay } from '../../src/platform/events/relay.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { appendTestEvents, count, createScratchRig, createTestVhost, rabbitmqctl, testLogger, waitFor, type TestVhost } from '../helpers/events.ts';

let db: TestDatabase;
let vhost: TestVhost;
const cleanup: (() => Promise<unknown>)[] = [];

/** Whatever happened, leave RabbitMQ running for everyone else. */
async function ensureRabbitRunning(): Promise<void> {
  try {
    await rabbitmqctl('start_app');
  } catch {
    const { execFile } = await import('node:child_process');
    await new Promise((resolve) => execFile('rabbitmq-server', ['-detached'], () => resolve(undefined)));
  }
  await rabbitmqctl('await_startup', '--timeout', '120');
}

test.before(async () => {
  [db, vhost] = await Promise.all([createTestDatabase({ migrated: false }), createTestVhost()]);
});
test.after.always(async () => {
  await ensureRabbitRunning();
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  await vhost?.drop();
  await db?.drop();
});

test('broker restarted mid-stream: nothing lost, every effect applied exactly once', async (t) => {
  const { schema, db: pool, topology, queue } = await createScratchRig(db.url, vhost.url, { bindings: ['test.*'], sharedExchange: true, cleanup });

  const broker = new Broker({ url: vhost.url, logger: testLogger(), reconnectMs: 500, heartbeatSeconds: 2 });
  cleanup.push(() => broker.close());
  await broker.waitForConnection(10_000);
  const publisher = new AmqpOutboxPublisher({ broker, topology, timeoutMs: 3_000, logger: testLogger() });
  cleanup.push(() => publisher.close());
  const relay = new OutboxRelay({ db: pool, schema, publisher, batchSize: 25, pollIntervalMs: 100, maxAttempts: 1_000, disabledDomains: () => [], logger: testLogger() });
  const metrics = createMetrics();
  const consumer = new EventConsumer({
    broker,
    db: pool,
    inboxSchema: schema,
    consumer: {
      queue,
      bindings: ['test.*'],
      handlers: {
        'test.happened': async (e, trx) => {
          await new Promise((r) => setTimeout(r, 2)); // keep some messages in flight when the broker goes
          await trx.table('effects').insert({ event_id: e.event_id, n: e.payload['n'] });
        },
      },
    },
    topology,
    prefetch: 20,
    maxAttempts: 5,
    logger: testLogger(),
    metrics: eventMetrics(metrics),
  });
  cleanup.push(() => consumer.stop());
  cleanup.push(() => relay.stop());
  await consumer.start();
  await relay.start();

  // a steady stream of committed events, before, during and after the outage
  let produced = 0;
  let producing = true;
  const producer = (async () => {
    while (producing) {
      await appendTestEvents(pool, schema, 10, { from: produced, perTx: 5 });
      produced += 10;
      await new Promise((r) => setTimeout(r, 30));
    }
  })();

  await waitFor('some effects before the outage', async () => (await count(pool, 'SELECT count(*) AS n FROM effects')) >= 100);
  let before = 0;
  try {
    await rabbitmqctl('stop_app');
    await waitFor('the client to notice', async () => !broker.isConnected(), 15_000);
    before = produced;
    await new Promise((r) => setTimeout(r, 2_000));
    t.true(produced > before, 'events were committed while the broker was down');
  } finally {
    await ensureRabbitRunning();
  }
  await waitFor('the client to reconnect', async () => broker.isConnected(), 30_000);
  await new Promise((r) => setTimeout(r, 1_000));
  producing = false;
  await producer;
  const total = produced;
  await waitFor('every event published', async () => (await count(pool, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')) === 0, 60_000);
  await waitFor('every effect', async () => (await count(pool, 'SELECT count(*) AS n FROM effects')) >= total, 60_000);
  // let any redelivery in flight settle, then check exactly-once
  await new Promise((r) => setTimeout(r, 1_000));
  t.is(await count(pool, 'SELECT count(*) AS n FROM outbox'), total);
  t.is(await count(pool, 'SELECT count(*) AS n FROM effects'), total);
  t.is(await count(pool, 'SELECT count(DISTINCT event_id) AS n FROM effects'), total);
  t.is(await count(pool, 'SELECT count(DISTINCT n) AS n FROM effects'), total);
  const dlq = await amqplib.connect(vhost.url).then(async (c) => {
    const n = (await (await c.createChannel()).checkQueue(`${queue}.dlq`)).messageCount;
    await c.close();
    return n;
  });
  t.is(dlq, 0, 'nothing dead-lettered');
  const consumed = await metrics.registry.getSingleMetric('events_consumed_total')?.get();
  t.log(`events: ${total}, consumer outcomes: ${JSON.stringify(Object.fromEntries((consumed?.values ?? []).map((v) => [v.labels['outcome'], v.value])))}`);
});
