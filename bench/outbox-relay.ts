/**
 * Outbox → broker throughput with publisher confirms: the relay (claim with FOR UPDATE SKIP LOCKED,
 * publish on an amqp-connection-manager confirm channel, mark published_at after the confirms) next to a
 * raw amqplib batch-confirm publish of the same messages, in the same run, to the same quorum queue.
 *
 *   npm run bench -- outbox-relay            # BENCH_EVENTS=20000 by default
 *
 * Creates and drops its own database and RabbitMQ vhost. Prints events/s of both and the ratio.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import pg from 'pg';
import { z } from 'zod';
import { createPool } from '../src/platform/db.ts';
import { Broker } from '../src/platform/events/broker.ts';
import { buildEnvelope, defineEvent, type Envelope } from '../src/platform/events/envelope.ts';
import { eventMetrics } from '../src/platform/events/event-metrics.ts';
import { createOutboxNotifyTriggerV1, createOutboxTableV1 } from '../src/platform/events/outbox-ddl.ts';
import { AmqpOutboxPublisher, toAmqpMessage } from '../src/platform/events/publisher.ts';
import { OutboxRelay } from '../src/platform/events/relay.ts';
import { declareTopology, resolveQueueType, type Topology } from '../src/platform/events/topology.ts';
import { createLogger } from '../src/platform/logger.ts';
import { createMetrics } from '../src/platform/metrics.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 20_000);
const PG_BASE = process.env['BENCH_PG_BASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432';
const AMQP_BASE = process.env['BENCH_AMQP_BASE_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const BATCHES = [100, 500];

const run = promisify(execFile);
const rabbitmqctl = (...args: string[]) => run('rabbitmqctl', args, { timeout: 60_000 });
const out = (line: string) => process.stdout.write(`${line}\n`);
const logger = createLogger('silent');
const benchEvent = defineEvent('bench.happened', '1.0', z.object({ n: z.number(), pad: z.string() }));

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

const id = `${Math.floor(Date.now() / 1000)}_${randomBytes(3).toString('hex')}`;
const dbName = `bo_bench_${id}`;
const vhost = `bo_bench_${id}`;
const queue = 'bench-service.events';
const topology: Topology = {
  exchange: 'domain.events',
  deadLetterExchange: 'domain.events.dlx',
  queueType: 'auto',
  retryDelaysMs: [1_000],
  deliveryLimit: 20,
  queues: [{ name: queue, bindings: ['bench.*'] }],
};

await admin((c) => c.query(`CREATE DATABASE "${dbName}"`));
await rabbitmqctl('add_vhost', vhost);
await rabbitmqctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*');
const amqpUrl = `${AMQP_BASE}/${vhost}`;
const db = createPool(`${PG_BASE}/${dbName}`, { searchPath: 'bench', max: 4 });
const raw = await amqplib.connect(amqpUrl);
const broker = new Broker({ url: amqpUrl, logger, reconnectMs: 1_000, heartbeatSeconds: 10 });

try {
  await db.raw('CREATE SCHEMA bench');
  await createOutboxTableV1(db);
  await createOutboxNotifyTriggerV1(db);
  const ch = await raw.createConfirmChannel();
  await declareTopology(ch, topology);
  const envelopes: Envelope[] = [];
  for (let n = 0; n < EVENTS; n++) envelopes.push(buildEnvelope(benchEvent, { n, pad: 'x'.repeat(200) }, { source: 'bench' }));
  const depth = async () => (await ch.checkQueue(queue)).messageCount;

  const version = String(raw.connection.serverProperties.version);
  out(`events: ${EVENTS} (~${Buffer.byteLength(JSON.stringify(envelopes[0]))} B each) → one ${resolveQueueType(topology, version)} queue, RabbitMQ ${version}`);

  // raw amqplib: publish in batches, wait for the confirms of each batch
  const rawRun = async (batch: number): Promise<number> => {
    await ch.purgeQueue(queue);
    const t0 = performance.now();
    for (let i = 0; i < envelopes.length; i += batch) {
      for (const e of envelopes.slice(i, i + batch)) {
        const { content, options } = toAmqpMessage(e);
        ch.publish(topology.exchange, e.event_type, content, options);
      }
      await ch.waitForConfirms();
    }
    const s = (performance.now() - t0) / 1000;
    if ((await depth()) !== EVENTS) throw new Error('raw run: queue depth does not match');
    return EVENTS / s;
  };

  // the relay: rows committed beforehand, timed from start until every row is marked published
  const relayRun = async (batch: number): Promise<number> => {
    await ch.purgeQueue(queue);
    await db.raw('TRUNCATE outbox');
    for (let i = 0; i < envelopes.length; i += 1_000) {
      await db('outbox').insert(
        envelopes.slice(i, i + 1_000).map((e) => ({ event_id: e.event_id, event_type: e.event_type, routing_key: e.event_type, envelope: e })),
      );
    }
    await db.raw('ANALYZE outbox'); // as autovacuum would after a bulk load: the planner then walks the partial index in id order
    await broker.waitForConnection(10_000);
    const publisher = new AmqpOutboxPublisher({ broker, topology, timeoutMs: 30_000, logger });
    while (!publisher.ready()) await new Promise((r) => setTimeout(r, 20));
    const metrics = eventMetrics(createMetrics());
    const relay = new OutboxRelay({ db, schema: 'bench', publisher, batchSize: batch, pollIntervalMs: 1_000, maxAttempts: 5, disabledDomains: () => [], logger, metrics });
    const published = async () => (await metrics.published.get()).values.reduce((a, v) => a + v.value, 0);
    const t0 = performance.now();
    await relay.start();
    // watch the relay's own counter (a COUNT(*) on the outbox every few ms would compete with it)
    while ((await published()) < EVENTS) await new Promise((r) => setTimeout(r, 2));
    const s = (performance.now() - t0) / 1000;
    await relay.stop();
    await publisher.close();
    const { rows } = await db.raw<{ rows: { n: string }[] }>('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
    if (Number(rows[0]?.n) !== 0) throw new Error('relay run: rows left unmarked');
    if ((await depth()) !== EVENTS) throw new Error('relay run: queue depth does not match');
    return EVENTS / s;
  };

  await rawRun(100); // warm-up
  for (const batch of BATCHES) {
    const r = await relayRun(batch);
    const a = await rawRun(batch);
    out(`batch ${String(batch).padStart(4)}: relay ${r.toFixed(0).padStart(7)} events/s | raw amqplib batch-confirm ${a.toFixed(0).padStart(7)} events/s | relay/raw ${(r / a).toFixed(2)}`);
  }
} finally {
  await broker.close().catch(() => undefined);
  await raw.close().catch(() => undefined);
  await db.destroy();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)).catch(() => undefined);
  await rabbitmqctl('delete_vhost', vhost).catch(() => undefined);
}
