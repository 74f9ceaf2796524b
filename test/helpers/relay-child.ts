/**
 * A relay in a process of its own, for the crash drill (test/platform/events/relay-crash.test.ts): it
 * relays a scratch outbox and SIGKILLs itself right after the broker confirmed its KILL_AFTER-th message
 * — after the confirm, before the batch's transaction marks the rows.
 */
import { createPool } from '../../src/platform/db.ts';
import { Broker } from '../../src/platform/events/broker.ts';
import { AmqpOutboxPublisher, type OutboxPublisher } from '../../src/platform/events/publisher.ts';
import { OutboxRelay } from '../../src/platform/events/relay.ts';
import { topologySchema } from '../../src/platform/events/topology.ts';
import { testLogger } from './events.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const killAfter = Number(env('KILL_AFTER'));
const topology = topologySchema.parse(JSON.parse(env('TOPOLOGY')));
const db = createPool(env('DB_URL'), { searchPath: env('SCHEMA'), max: 2 });
const broker = new Broker({ url: env('AMQP_URL'), logger: testLogger(), reconnectMs: 500, heartbeatSeconds: 5 });
await broker.waitForConnection(10_000);
const inner = new AmqpOutboxPublisher({ broker, topology, timeoutMs: 5_000, logger: testLogger() });
let confirmed = 0;
const publisher: OutboxPublisher = {
  ready: () => inner.ready(),
  async publish(row) {
    await inner.publish(row);
    if (++confirmed === killAfter) process.kill(process.pid, 'SIGKILL');
  },
  close: () => inner.close(),
};
const relay = new OutboxRelay({
  db,
  schema: env('SCHEMA'),
  publisher,
  batchSize: Number(env('BATCH_SIZE')),
  pollIntervalMs: 50,
  maxAttempts: 5,
  disabledDomains: () => [],
  logger: testLogger(),
});
await relay.start();
