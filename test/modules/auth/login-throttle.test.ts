import test from 'ava';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';

let app: TestApp;
test.before(async () => {
  app = await startTestApp({ env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '3', LOGIN_MAX_FAILURES_PER_IP: '8', LOGIN_THROTTLE_WINDOW_SECONDS: '60' } });
});
test.after.always(async () => {
  await app?.stop();
});

const login = (email: string, password: string, ip?: string) =>
  api(app.url, 'POST', '/api/v1/auth/login', { body: { email, password }, ...(ip ? { headers: { 'x-forwarded-for': ip } } : {}) });

test.serial('too many failures on one account → 429 with Retry-After, even with the right password', async (t) => {
  const { user } = await registerAndLogin(app.url);
  for (let i = 0; i < 3; i++) t.is((await login(user.email, 'Wr0ng-pass')).status, 401);
  const blocked = await login(user.email, user.password);
  t.is(blocked.status, 429);
  t.is(blocked.body.type, 'urn:boxoffice:problem:too-many-requests');
  const retryAfter = Number(blocked.headers.get('retry-after'));
  t.true(retryAfter > 0 && retryAfter <= 60, String(retryAfter));
});

test.serial('a success resets the account count', async (t) => {
  const { user } = await registerAndLogin(app.url);
  for (let i = 0; i < 2; i++) t.is((await login(user.email, 'Wr0ng-pass')).status, 401);
  t.is((await login(user.email, user.password)).status, 200);
  for (let i = 0; i < 2; i++) t.is((await login(user.email, 'Wr0ng-pass')).status, 401);
  t.is((await login(user.email, user.password)).status, 200);
});

test.serial('failures across many accounts from one address → 429 for that address', async (t) => {
  // everything here comes from 127.0.0.1 (TRUST_PROXY is off, so X-Forwarded-For is ignored);
  // the earlier tests spent 5 of the 8 failures this address may have
  const { user } = await registerAndLogin(app.url);
  let status = 0;
  for (let i = 0; i < 6 && status !== 429; i++) {
    status = (await login(`nobody-${i}@example.com`, 'Wr0ng-pass', `10.0.0.${i}`)).status;
  }
  t.is(status, 429);
  const blocked = await login(user.email, user.password);
  t.is(blocked.status, 429);
  t.regex(blocked.body.detail, /this address/);
});
