import test from 'ava';
import { ConfigError, loadConfig } from '../../../src/platform/config.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { PermanentEventError } from '../../../src/platform/events/consumer.ts';
import { DeliveryDispatcher } from '../../../src/platform/events/delivery-dispatcher.ts';
import { DeliveryDrain } from '../../../src/platform/events/delivery-drain.ts';
import { createEventDeliveriesTableV1 } from '../../../src/platform/events/event-deliveries-ddl.ts';
import { PostgresOutboxPublisher, type PostgresRoute } from '../../../src/platform/events/postgres-publisher.ts';
import { OutboxRelay } from '../../../src/platform/events/relay.ts';
import { topicMatches } from '../../../src/platform/events/topic-match.ts';
import type { EventHandler, Worker } from '../../../src/platform/module.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { appendTestEvents, count, createScratchSchema, testLogger, waitFor } from '../../helpers/events.ts';

/**
 * The Postgres transport (ADR 0077) on scratch schemas: a source outbox, its relay publishing through
 * PostgresOutboxPublisher, and consumers with their own inbox, event_deliveries and an `effects` table
 * without a unique key (a handler applied twice shows as two rows).
 */
let db: TestDatabase;
const cleanup: (() => Promise<unknown>)[] = [];

test.before(async () => {
  db = await createTestDatabase({ migrated: false });
});
test.after.always(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  await db?.drop();
});

const start = async (w: Worker) => {
  await w.start();
  cleanup.push(() => w.stop());
};

async function consumerSchema(): Promise<{ schema: string; db: Knex }> {
  const s = await createScratchSchema(db.url);
  cleanup.push(() => s.db.destroy());
  await createEventDeliveriesTableV1(s.db);
  return s;
}

/** A handler appending an effect row; it throws while `fail(attempt)` says so. */
function effectHandler(fail: (call: number) => Error | undefined): { handler: EventHandler; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    handler: async (event, trx) => {
      calls++;
      // written before the failure: the savepoint must undo it
      await trx.table('effects').insert({ event_id: event.event_id, n: (event.payload as { n: number }).n });
      const err = fail(calls);
      if (err) throw err;
    },
  };
}

function dispatcher(c: { schema: string; db: Knex }, handler: EventHandler, maxAttempts = 3): DeliveryDispatcher {
  return new DeliveryDispatcher({
    db: c.db,
    schema: c.schema,
    consumer: { queue: `q-${c.schema}`, bindings: ['test.*'], handlers: { 'test.happened': handler } },
    concurrency: 2,
    maxAttempts,
    retryDelaysMs: [50, 100],
    pollIntervalMs: 50,
    logger: testLogger(),
  });
}

test('topic patterns match as on a topic exchange', (t) => {
  t.true(topicMatches('booking.*', 'booking.created'));
  t.false(topicMatches('booking.*', 'booking.seat.held'));
  t.true(topicMatches('booking.#', 'booking.seat.held'));
  t.true(topicMatches('#', 'a.b'));
  t.true(topicMatches('a.#.c', 'a.c'));
  t.false(topicMatches('payment.*', 'booking.created'));
  t.false(topicMatches('a.b', 'a.b.c'));
});

test('retries until the handler succeeds, dead-letters one that always fails, each effect once', async (t) => {
  const source = await createScratchSchema(db.url);
  cleanup.push(() => source.db.destroy());
  const flaky = await consumerSchema();
  const broken = await consumerSchema();
  const other = await consumerSchema();
  const flakyHandler = effectHandler((call) => (call <= 2 ? new Error(`flaky ${call}`) : undefined));
  const brokenHandler = effectHandler(() => new Error('always broken'));
  const flakyDispatcher = dispatcher(flaky, flakyHandler.handler);
  const brokenDispatcher = dispatcher(broken, brokenHandler.handler);
  const routes: PostgresRoute[] = [
    { queue: 'flaky', bindings: ['test.*'], db: flaky.db, schema: flaky.schema, delivered: () => flakyDispatcher.wake() },
    { queue: 'broken', bindings: ['test.#'], db: broken.db, schema: broken.schema, delivered: () => brokenDispatcher.wake() },
    // bound elsewhere: never gets the event
    { queue: 'other', bindings: ['payment.*'], db: other.db, schema: other.schema },
  ];
  const publisher = new PostgresOutboxPublisher(routes);
  const relay = new OutboxRelay({ db: source.db, schema: source.schema, publisher, batchSize: 10, pollIntervalMs: 50, maxAttempts: 5, disabledDomains: () => [], logger: testLogger() });
  await start(flakyDispatcher);
  await start(brokenDispatcher);
  await start(relay);
  const [event] = await appendTestEvents(source.db, source.schema, 1);

  await waitFor('flaky consumer applied the event', () => count(flaky.db, 'SELECT count(*) AS n FROM inbox').then((n) => n === 1), 10_000);
  t.is(await count(flaky.db, 'SELECT count(*) AS n FROM effects'), 1, 'the failed attempts left no effect');
  t.is(flakyHandler.calls(), 3);
  t.is(await count(flaky.db, 'SELECT count(*) AS n FROM event_deliveries'), 0, 'handled deliveries are removed');

  const dead = await waitFor('broken consumer dead-lettered the event', async () =>
    (await broken.db.table('event_deliveries').whereNotNull('dead_lettered_at').first()) as { event_id: string; attempts: number; last_error: string } | undefined, 10_000);
  t.like(dead, { event_id: event!.event_id, attempts: 3 });
  t.regex(dead.last_error, /always broken/);
  t.is(brokenHandler.calls(), 3, 'no attempt after the dead letter');
  t.is(await count(broken.db, 'SELECT count(*) AS n FROM inbox'), 0);
  t.is(await count(broken.db, 'SELECT count(*) AS n FROM effects'), 0);
  t.is(await count(other.db, 'SELECT count(*) AS n FROM event_deliveries'), 0, 'routing follows the bindings');
  t.truthy(await source.db.table('outbox').whereNotNull('published_at').first(), 'the relay marked the row published');

  // the relay publishes the row again (a crash before it marked it): nothing new happens
  await source.db.table('outbox').update({ published_at: null });
  await waitFor('row re-published', () => source.db.table('outbox').whereNotNull('published_at').first());
  await waitFor('duplicate delivery settled', () => count(flaky.db, 'SELECT count(*) AS n FROM event_deliveries').then((n) => n === 0));
  t.is(await count(flaky.db, 'SELECT count(*) AS n FROM effects'), 1, 'the inbox absorbs the duplicate');
  t.is(await count(broken.db, 'SELECT count(*) AS n FROM event_deliveries'), 1, 'the dead letter is not revived by a duplicate');
});

test('a PermanentEventError dead-letters at once; other deliveries keep flowing', async (t) => {
  const c = await consumerSchema();
  const handler = effectHandler(() => undefined);
  const d = dispatcher(c, async (event, trx) => {
    if ((event.payload as { n: number }).n === 0) throw new PermanentEventError('never valid');
    await handler.handler(event, trx);
  }, 5);
  const publisher = new PostgresOutboxPublisher([{ queue: 'q', bindings: ['test.*'], db: c.db, schema: c.schema, delivered: () => d.wake() }]);
  const events = await appendTestEvents(c.db, c.schema, 5);
  await start(d);
  for (const row of await c.db.table('outbox').orderBy('id')) await publisher.publish(row);
  await waitFor('four effects', () => count(c.db, 'SELECT count(*) AS n FROM effects').then((n) => n === 4), 10_000);
  const dead = await waitFor('dead letter', () => c.db.table('event_deliveries').whereNotNull('dead_lettered_at').first());
  t.like(dead, { event_id: events[0]!.event_id, attempts: 1 });
  t.regex(dead.last_error, /PermanentEventError: never valid/);
});

test('EVENTS_TRANSPORT=postgres refuses a split-out subset of modules, naming why', (t) => {
  const err = t.throws(() => loadConfig({ NODE_ENV: 'test', EVENTS_TRANSPORT: 'postgres', MODULES: 'auth,booking' }), { instanceOf: ConfigError });
  t.is(err?.problems[0]?.variable, 'MODULES');
  t.regex(err?.message ?? '', /\(movie, payment, notification\) would never receive them/);
  t.is(loadConfig({ NODE_ENV: 'test', EVENTS_TRANSPORT: 'postgres' }).EVENTS_TRANSPORT, 'postgres');
  t.is(loadConfig({ NODE_ENV: 'test', MODULES: 'auth,booking' }).EVENTS_TRANSPORT, 'amqp', 'the broker stays the default');
});

test('switching back to the broker: the drain handles what the Postgres transport left, then stops its dispatcher', async (t) => {
  const c = await consumerSchema();
  const handler = effectHandler(() => undefined);
  const d = dispatcher(c, handler.handler);
  const drain = new DeliveryDrain(d, { db: c.db, schema: c.schema, pollIntervalMs: 50, logger: testLogger() });
  cleanup.push(() => drain.stop());
  const publisher = new PostgresOutboxPublisher([{ queue: 'q', bindings: ['test.*'], db: c.db, schema: c.schema }]);
  await appendTestEvents(c.db, c.schema, 3);
  for (const row of await c.db.table('outbox').orderBy('id')) await publisher.publish(row);

  await drain.start();
  await waitFor('left-over deliveries handled', () => count(c.db, 'SELECT count(*) AS n FROM effects').then((n) => n === 3), 10_000);
  await waitFor('the drain stopped its dispatcher', () => d['lanes'].length === 0, 5_000);
  t.is(await count(c.db, 'SELECT count(*) AS n FROM event_deliveries'), 0);
  t.is(await count(c.db, 'SELECT count(*) AS n FROM inbox'), 3);
});
