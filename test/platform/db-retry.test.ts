import test from 'ava';
import { Databases } from '../../src/platform/db.ts';
import { transactionWithRetry } from '../../src/platform/db-retry.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
let databases: Databases;
test.before(async () => {
  db = await createTestDatabase();
  databases = new Databases({ DATABASE_URL: db.url, DB_POOL_MAX: 4, DB_ROLE_PREFIX: 'boxoffice_' });
  await databases.forModule('booking').raw('CREATE TABLE bookings.retry_probe (id int PRIMARY KEY, n int NOT NULL)');
  await databases.forModule('booking').raw('INSERT INTO bookings.retry_probe VALUES (1, 0), (2, 0)');
});
test.after.always(async () => {
  await databases?.closeAll();
  await db?.drop();
});

test('a real deadlock (40P01) is retried: both transactions end up applied, none surfaces the error', async (t) => {
  const knex = databases.forModule('booking');
  let retries = 0;
  const bump = (first: number, second: number) =>
    transactionWithRetry(knex, async (trx) => {
      await trx.raw('UPDATE bookings.retry_probe SET n = n + 1 WHERE id = ?', [first]);
      await trx.raw('SELECT pg_sleep(0.2)');
      await trx.raw('UPDATE bookings.retry_probe SET n = n + 1 WHERE id = ?', [second]);
    }, { onRetry: () => retries++ });
  await Promise.all([bump(1, 2), bump(2, 1)]);
  t.true(retries >= 1, 'Postgres broke the deadlock and the loser ran again');
  const rows = await knex.raw('SELECT n FROM bookings.retry_probe ORDER BY id');
  t.deepEqual(rows.rows.map((r: { n: number }) => r.n), [2, 2]);
});

test('other errors are not retried; retryable ones give up after the last attempt', async (t) => {
  const knex = databases.forModule('booking');
  let calls = 0;
  await t.throwsAsync(transactionWithRetry(knex, async () => {
    calls++;
    throw Object.assign(new Error('unique'), { code: '23505' });
  }), { message: 'unique' });
  t.is(calls, 1);
  calls = 0;
  await t.throwsAsync(transactionWithRetry(knex, async () => {
    calls++;
    throw Object.assign(new Error('serialization'), { code: '40001' });
  }, { attempts: 3, baseDelayMs: 1 }), { message: 'serialization' });
  t.is(calls, 3);
});
