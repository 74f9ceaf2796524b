import test from 'ava';
import { api, newUser, registerAndLogin, startTestApp } from '../helpers/app.ts';
import { createTestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/events.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

test('Redis down: ready (it degrades around it), reported as degraded; liveness 200; logins still work', async (t) => {
  const app = await startTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  t.teardown(() => app.stop());
  const ready = await api(app.url, 'GET', '/health/ready');
  t.is(ready.status, 200);
  t.is(ready.body.status, 'degraded');
  t.deepEqual(ready.body.degraded, ['redis']);
  t.is(ready.body.checks.redis.status, 'degraded');
  t.is(ready.body.checks.postgres.status, 'ok');
  t.is((await api(app.url, 'GET', '/health')).status, 200);
  // logins still work: the throttle falls back to process memory when Redis is unreachable
  const { access } = await registerAndLogin(app.url);
  t.is((await api(app.url, 'GET', '/api/v1/auth/me', { token: access })).status, 200);
});

test('database down: requests answer 503 unavailable with Retry-After, readiness names postgres, one log line per outage', async (t) => {
  const db = await createTestDatabase();
  const target = new URL(db.url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const viaProxy = new URL(db.url);
  viaProxy.port = String(proxy.port);
  const logs = captureLogs('info');
  // knex prints its own connection errors with console.log unless it is given a logger
  const raw: string[] = [];
  const consoleLog = console.log;
  console.log = (...args: unknown[]) => void raw.push(args.map(String).join(' '));
  // no workers: the sweepers' and relays' polls are not under test here, requests are
  const app = await startTestApp({ db, logger: logs.logger, env: { DATABASE_URL: viaProxy.toString(), ROLE: 'web' } });
  t.teardown(async () => {
    console.log = consoleLog;
    await app.stop();
    await proxy.close();
    await db.drop();
  });
  const user = newUser('outage');
  t.is((await api(app.url, 'POST', '/api/v1/auth/register', { body: user })).status, 201);

  await proxy.cut();
  for (let i = 0; i < 5; i++) {
    const res = await api(app.url, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    t.is(res.status, 503);
    t.is(res.body.type, 'urn:boxoffice:problem:unavailable');
    t.is(res.headers.get('content-type'), 'application/problem+json');
    t.regex(res.headers.get('retry-after') ?? '', /^\d+$/);
  }
  const ready = await api(app.url, 'GET', '/health/ready');
  t.is(ready.status, 503);
  t.true(ready.body.failing.includes('postgres'));
  const down = logs.lines.filter((l) => l.msg?.startsWith('database unreachable'));
  t.is(down.length, 1, 'one line for the outage, not one per attempt');
  t.is(logs.lines.filter((l) => l.msg === 'unhandled error').length, 0);
  t.deepEqual(raw.filter((l) => /connection error/i.test(l)), [], 'nothing printed outside the JSON log');

  await proxy.restore();
  await waitFor('logins after the database is back', async () => (await api(app.url, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } })).status === 200);
  t.is(logs.lines.filter((l) => l.msg === 'database reachable again').length, 1);
});

test('a split-out process (MODULES without auth) validates tokens through the auth service over HTTP', async (t) => {
  const authApp = await startTestApp({ env: { MODULES: 'auth,movie' } });
  t.teardown(() => authApp.stop());
  const secret = (await import('node:fs')).readFileSync(`${authApp.env['JWT_KEYS_DIR']}/legacy-hs256.secret`, 'utf8');
  const booking = await startTestApp({
    db: authApp.db,
    env: { MODULES: 'booking', SERVICE_URL_AUTH: authApp.url, SERVICE_URL_MOVIE: authApp.url, LEGACY_JWT_SECRET: secret, FLAGS_BOOTSTRAP: 'use_local_jwt=true,use_rs256_tokens=true' },
  });
  t.teardown(() => booking.stop());
  t.is((await api(booking.url, 'POST', '/api/v1/auth/login', { body: {} })).status, 404, 'auth routes are not served here');
  const { access } = await registerAndLogin(authApp.url);
  const jwks = await booking.app.facades.auth!.getJwks();
  t.is(jwks.keys.length, 1);
  const principal = await booking.app.authenticator.authenticate(`Bearer ${access}`);
  t.is(principal.email.endsWith('@example.com'), true);
  await t.throwsAsync(booking.app.authenticator.authenticate('Bearer x.y.z'));
});
