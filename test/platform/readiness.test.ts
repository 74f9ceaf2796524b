import test from 'ava';
import { api, registerAndLogin, startTestApp } from '../helpers/app.ts';

test('readiness is 503 naming the failing dependency while liveness stays 200', async (t) => {
  const app = await startTestApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
  t.teardown(() => app.stop());
  const ready = await api(app.url, 'GET', '/health/ready');
  t.is(ready.status, 503);
  t.is(ready.body.type, 'urn:boxoffice:problem:service-unavailable');
  t.deepEqual(ready.body.failing, ['redis']);
  t.is(ready.body.checks.postgres.status, 'ok');
  t.is((await api(app.url, 'GET', '/health')).status, 200);
  // logins still work: the throttle falls back to process memory when Redis is unreachable
  const { access } = await registerAndLogin(app.url);
  t.is((await api(app.url, 'GET', '/api/v1/auth/me', { token: access })).status, 200);
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
