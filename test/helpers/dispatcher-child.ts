/**
 * The Postgres transport in a process of its own, for the crash drill
 * (test/platform/events/postgres-transport-crash.test.ts): a relay and a dispatcher on one scratch
 * schema, whose handler SIGKILLs the process on its KILL_AT-th call — after writing the effect, before
 * the transaction (inbox row, effect, dequeue) commits — while the other lane is mid-delivery too.
 */
import { createPool } from '../../src/platform/db.ts';
import { DeliveryDispatcher } from '../../src/platform/events/delivery-dispatcher.ts';
import { PostgresOutboxPublisher } from '../../src/platform/events/postgres-publisher.ts';
import { OutboxRelay } from '../../src/platform/events/relay.ts';
import { testLogger } from './events.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};
const schema = env('SCHEMA');
const killAt = Number(env('KILL_AT'));
const db = createPool(env('DB_URL'), { searchPath: schema, max: 4 });
let calls = 0;
const dispatcher = new DeliveryDispatcher({
  db,
  schema,
  consumer: {
    queue: 'crash',
    bindings: ['test.*'],
    handlers: {
      'test.happened': async (event, trx) => {
        await trx.table('effects').insert({ event_id: event.event_id, n: (event.payload as { n: number }).n });
        if (++calls === killAt) process.kill(process.pid, 'SIGKILL');
      },
    },
  },
  concurrency: 2,
  maxAttempts: 5,
  retryDelaysMs: [50],
  pollIntervalMs: 50,
  logger: testLogger(),
});
const publisher = new PostgresOutboxPublisher([{ queue: 'crash', bindings: ['test.*'], db, schema, delivered: () => dispatcher.wake() }]);
const relay = new OutboxRelay({ db, schema, publisher, batchSize: 10, pollIntervalMs: 50, maxAttempts: 5, disabledDomains: () => [], logger: testLogger() });
await dispatcher.start();
await relay.start();
