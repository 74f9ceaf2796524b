import test from 'ava';
import { createAuthMapping } from '../../src/modules/auth/index.ts';
import { createPool } from '../../src/platform/db.ts';
import { api, newUser, startTestApp, type TestApp } from '../helpers/app.ts';
import { createTestDatabase, PG_BASE, type TestDatabase } from '../helpers/db.ts';
import { count, waitFor } from '../helpers/events.ts';
import { compareSides } from '../helpers/strangler.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

/**
 * A module whose own schema lives in a database of its own (AUTH_DATABASE_URL): the copy of each write
 * is owed in migration.dual_write_queue (written in the user's transaction) and made after commit. With
 * that database cut off mid-traffic, every request still succeeds, the owed copies pile up and fail with
 * back-off; once it is back, the queue drains and both sides are equal.
 */
let main: TestDatabase;
let second: TestDatabase;
let proxy: TcpProxy;
let app: TestApp;
test.before(async () => {
  main = await createTestDatabase();
  second = await createTestDatabase();
  const target = new URL(PG_BASE);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(second.url);
  viaProxy.host = `127.0.0.1:${proxy.port}`;
  app = await startTestApp({
    db: main,
    env: {
      AUTH_DATABASE_URL: viaProxy.toString(),
      FLAGS_BOOTSTRAP: 'dual_write_auth_db=true',
      DUAL_WRITE_RETRY_DELAYS_MS: '100,200,400',
    },
  });
});
test.after.always(async () => {
  await app?.stop();
  await proxy?.close();
  await second?.drop();
  await main?.drop();
});

test('the module database cut off mid-traffic: requests succeed, owed copies are retried, the sides end equal', async (t) => {
  const mainAdmin = createPool(main.url, { max: 2 });
  const secondAdmin = createPool(second.url, { max: 2 });
  t.teardown(async () => {
    await mainAdmin.destroy();
    await secondAdmin.destroy();
  });
  const register = async (n: number) => {
    const statuses = await Promise.all(Array.from({ length: n }, () => api(app.url, 'POST', '/api/v1/auth/register', { body: newUser('sep') }).then((r) => r.status)));
    return statuses.filter((s) => s !== 201).length;
  };
  t.is(await register(20), 0);
  await waitFor('first copies made', async () => (await count(secondAdmin, 'SELECT count(*) AS n FROM auth.users')) === 20);
  t.is(await count(mainAdmin, 'SELECT count(*) AS n FROM auth.users'), 0, 'the own schema in DATABASE_URL stays unused');

  await proxy.cut();
  t.is(await register(30), 0, 'a request failed while the module database was unreachable');
  const owed = await count(mainAdmin, 'SELECT count(*) AS n FROM migration.dual_write_queue WHERE module = ?', ['auth']);
  t.true(owed >= 30, `owed copies: ${owed}`);
  await waitFor('a failed copy attempt recorded', async () => (await count(mainAdmin, 'SELECT count(*) AS n FROM migration.dual_write_failures')) > 0);
  const metrics = await fetch(`${app.url}/metrics`).then((r) => r.text());
  t.regex(metrics, /dual_write_copies_total\{module="auth",result="failed"\} [1-9]/);
  t.regex(metrics, /dual_write_queue_depth\{module="auth"\} [1-9]/);

  await proxy.restore();
  await waitFor('the queue drained', async () => (await count(mainAdmin, 'SELECT count(*) AS n FROM migration.dual_write_queue')) === 0, 30_000);
  t.is(await count(secondAdmin, 'SELECT count(*) AS n FROM auth.users'), 50);
  t.deepEqual(await compareSides(mainAdmin, createAuthMapping(), { ownDb: secondAdmin }), []);
});
