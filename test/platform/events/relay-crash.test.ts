import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Broker } from '../../../src/platform/events/broker.ts';
import { EventConsumer } from '../../../src/platform/events/consumer.ts';
import { eventMetrics } from '../../../src/platform/events/event-metrics.ts';
import { AmqpOutboxPublisher } from '../../../src/platform/events/publisher.ts';
import { OutboxRelay } from '../../../src/platform/events/relay.ts';
import { createMetrics } from '../../../src/platform/metrics.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { appendTestEvents, count, createScratchRig, createTestVhost, testLogger, waitFor, type TestVhost } from '../../helpers/events.ts';

let db: TestDatabase;
let vhost: TestVhost;
const cleanup: (() => Promise<unknown>)[] = [];
const child = fileURLToPath(new URL('../../helpers/relay-child.ts', import.meta.url));

test.before(async () => {
  [db, vhost] = await Promise.all([createTestDatabase({ migrated: false }), createTestVhost()]);
});
test.after.always(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  await vhost?.drop();
  await db?.drop();
});

test('relay killed between the confirm and the mark: every committed event is published, each effect applied once', async (t) => {
  const { schema, db: pool, topology, queue } = await createScratchRig(db.url, vhost.url, { bindings: ['test.*'], cleanup });
  const committed = await appendTestEvents(pool, schema, 300, { perTx: 60 });

  // 1. a relay process publishes batch 1 (100, marked) and 50 of batch 2, then dies before marking batch 2
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [child], {
      env: { ...process.env, DB_URL: db.url, SCHEMA: schema, AMQP_URL: vhost.url, TOPOLOGY: JSON.stringify(topology), KILL_AFTER: '150', BATCH_SIZE: '100' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
  t.is(exit.signal, 'SIGKILL', exit.stderr);
  t.is(await count(pool, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NOT NULL'), 100, 'only the first batch was marked');

  // 2. the restarted relay publishes the rest, including the 50+ already confirmed but unmarked rows again
  const broker = new Broker({ url: vhost.url, logger: testLogger(), reconnectMs: 500, heartbeatSeconds: 5 });
  cleanup.push(() => broker.close());
  await broker.waitForConnection(10_000);
  const publisher = new AmqpOutboxPublisher({ broker, topology, timeoutMs: 5_000, logger: testLogger() });
  cleanup.push(() => publisher.close());
  const relay = new OutboxRelay({ db: pool, schema, publisher, batchSize: 100, pollIntervalMs: 50, maxAttempts: 5, disabledDomains: () => [], logger: testLogger() });
  cleanup.push(() => relay.stop());
  await relay.start();
  await waitFor('every row marked', async () => (await count(pool, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')) === 0);

  // 3. the consumer sees duplicates and applies each event once
  const metrics = createMetrics();
  const consumer = new EventConsumer({
    broker,
    db: pool,
    inboxSchema: schema,
    consumer: {
      queue,
      bindings: ['test.*'],
      handlers: { 'test.happened': async (e, trx) => void (await trx.table('effects').insert({ event_id: e.event_id, n: e.payload['n'] })) },
    },
    topology,
    prefetch: 50,
    maxAttempts: 3,
    logger: testLogger(),
    metrics: eventMetrics(metrics),
  });
  cleanup.push(() => consumer.stop());
  await consumer.start();
  const outcomes = async () => {
    const m = await metrics.registry.getSingleMetric('events_consumed_total')?.get();
    const by = (o: string) => (m?.values ?? []).filter((v) => v.labels['outcome'] === o).reduce((a, v) => a + v.value, 0);
    return { handled: by('handled'), duplicate: by('duplicate') };
  };
  await waitFor('all effects', async () => (await count(pool, 'SELECT count(*) AS n FROM effects')) === 300);
  // at least the 50 rows confirmed in the killed batch went out twice; wait for their second delivery
  const o = await waitFor('the duplicates', async () => {
    const r = await outcomes();
    return r.duplicate >= 50 && r;
  }).catch(async (err: Error) => t.fail(`${err.message}; outcomes ${JSON.stringify(await outcomes())}`));
  t.is(o && o.handled, 300);
  t.is(await count(pool, 'SELECT count(*) AS n FROM effects'), 300);
  t.is(await count(pool, 'SELECT count(DISTINCT event_id) AS n FROM effects'), 300);
  t.is(await count(pool, 'SELECT count(*) AS n FROM effects WHERE event_id = ANY(?::uuid[])', [committed.map((e) => e.event_id)]), 300);
});
