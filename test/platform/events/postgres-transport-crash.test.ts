import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { DeliveryDispatcher } from '../../../src/platform/events/delivery-dispatcher.ts';
import { createEventDeliveriesTableV1 } from '../../../src/platform/events/event-deliveries-ddl.ts';
import { PostgresOutboxPublisher } from '../../../src/platform/events/postgres-publisher.ts';
import { OutboxRelay } from '../../../src/platform/events/relay.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { appendTestEvents, count, createScratchSchema, testLogger, waitFor } from '../../helpers/events.ts';

let db: TestDatabase;
const cleanup: (() => Promise<unknown>)[] = [];
const child = fileURLToPath(new URL('../../helpers/dispatcher-child.ts', import.meta.url));

test.before(async () => {
  db = await createTestDatabase({ migrated: false });
});
test.after.always(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  await db?.drop();
});

test('Postgres transport killed mid-handler: after a restart every event is applied, each exactly once', async (t) => {
  const { schema, db: pool } = await createScratchSchema(db.url);
  cleanup.push(() => pool.destroy());
  await createEventDeliveriesTableV1(pool);
  const events = await appendTestEvents(pool, schema, 60, { perTx: 20 });

  const exit = await new Promise<{ signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    const p = spawn(process.execPath, [child], { env: { ...process.env, DB_URL: db.url, SCHEMA: schema, KILL_AT: '25' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.once('exit', (_code, signal) => resolve({ signal, stderr }));
  });
  t.is(exit.signal, 'SIGKILL', exit.stderr);
  const before = await count(pool, 'SELECT count(*) AS n FROM effects');
  t.true(before >= 1 && before < 60, `the process died part-way (${before} effects committed)`);
  t.is(before, await count(pool, 'SELECT count(*) AS n FROM inbox'), 'no effect committed without its inbox row');

  // restart: the same relay and dispatcher, in this process
  const dispatcher = new DeliveryDispatcher({
    db: pool, schema, consumer: { queue: 'crash', bindings: ['test.*'], handlers: { 'test.happened': async (event, trx) => {
      await trx.table('effects').insert({ event_id: event.event_id, n: (event.payload as { n: number }).n });
    } } },
    concurrency: 2, maxAttempts: 5, retryDelaysMs: [50], pollIntervalMs: 50, logger: testLogger(),
  });
  const publisher = new PostgresOutboxPublisher([{ queue: 'crash', bindings: ['test.*'], db: pool, schema, delivered: () => dispatcher.wake() }]);
  const relay = new OutboxRelay({ db: pool, schema, publisher, batchSize: 10, pollIntervalMs: 50, maxAttempts: 5, disabledDomains: () => [], logger: testLogger() });
  cleanup.push(() => dispatcher.stop(), () => relay.stop());
  await dispatcher.start();
  await relay.start();
  await waitFor('every event applied', () => count(pool, 'SELECT count(*) AS n FROM inbox').then((n) => n === 60), 20_000);
  await waitFor('outbox drained', () => count(pool, 'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL').then((n) => n === 0));
  t.is(await count(pool, 'SELECT count(*) AS n FROM effects'), 60, 'each effect once');
  t.is(await count(pool, 'SELECT count(DISTINCT event_id) AS n FROM effects'), 60);
  t.deepEqual(
    (await pool.table('effects').orderBy('n').pluck('n')) as number[],
    events.map((e) => (e.payload as { n: number }).n),
  );
  t.is(await count(pool, 'SELECT count(*) AS n FROM event_deliveries'), 0);
});
