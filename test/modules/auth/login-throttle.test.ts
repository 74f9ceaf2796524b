import test from 'ava';
import { api, registerAndLogin, startTestApp, testBackend, type TestApp } from '../../helpers/app.ts';
import { waitFor } from '../../helpers/events.ts';

// ADR 0043. TRUST_PROXY on so that X-Forwarded-For stands for distinct client addresses.
let app: TestApp;
test.before(async () => {
  app = await startTestApp({
    env: {
      TRUST_PROXY: 'true',
      LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '3',
      LOGIN_MAX_FAILURES_PER_IP: '8',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '4',
      LOGIN_ACCOUNT_MAX_DELAY_SECONDS: '2',
      LOGIN_THROTTLE_WINDOW_SECONDS: '60',
    },
  });
});
test.after.always(async () => {
  await app?.stop();
});

let next = 0;
/** A fresh client address per call: tests do not share address budgets. */
const address = () => `198.51.100.${++next}`;
const login = (email: string, password: string, ip: string) =>
  api(app.url, 'POST', '/api/v1/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': ip } });

test('a stranger failing on an account from his address locks out only himself', async (t) => {
  const { user } = await registerAndLogin(app.url);
  const stranger = address();
  for (let i = 0; i < 3; i++) t.is((await login(user.email, 'Wr0ng-pass', stranger)).status, 401);
  const blocked = await login(user.email, user.password, stranger);
  t.is(blocked.status, 429, 'even the right password, from that address');
  t.regex(blocked.body.detail, /this account from this address/);
  const retryAfter = Number(blocked.headers.get('retry-after'));
  t.true(retryAfter > 0 && retryAfter <= 60, String(retryAfter));
  t.is((await login(user.email, user.password, address())).status, 200, 'the owner, elsewhere, logs in');
});

test("the admin's account cannot be locked by five wrong passwords from anyone", async (t) => {
  const email = `admin-${Date.now()}@example.com`;
  const password = 'Adm1n-long-secret';
  await app.app.auth!.admin.createAdmin({ email, password });
  const home = address();
  t.is((await login(email, password, home)).status, 200);
  for (const stranger of [address(), address()]) {
    for (let i = 0; i < 5; i++) t.not((await login(email, 'guess-Passw0rd', stranger)).status, 200);
  }
  t.is((await login(email, password, home)).status, 200);
});

test('a distributed guesser meets a doubling delay on the account, not a lock; known addresses pass', async (t) => {
  const { user } = await registerAndLogin(app.url);
  const home = address();
  t.is((await login(user.email, user.password, home)).status, 200, 'the owner logs in from home once');
  // four failures, each from a new address: no pair or address budget is touched
  for (let i = 0; i < 4; i++) t.is((await login(user.email, 'Wr0ng-pass', address())).status, 401);
  const waits: number[] = [];
  for (let round = 0; round < 3; round++) {
    const refused = await login(user.email, 'Wr0ng-pass', address());
    t.is(refused.status, 429, `round ${round}`);
    t.regex(refused.body.detail, /this account/);
    waits.push(Number(refused.headers.get('retry-after')));
    // while the delay runs, the owner's known address is not slowed down
    t.is((await login(user.email, user.password, home)).status, 200);
    // the guesser's next attempt is checked once the delay is over — and fails, doubling the delay
    await waitFor('the account delay to pass', async () => (await login(user.email, 'Wr0ng-pass', address())).status === 401, 10_000, 100);
  }
  t.deepEqual(waits, [1, 2, 2], 'doubles up to LOGIN_ACCOUNT_MAX_DELAY_SECONDS');
  // an owner on a new address waits at most the cap, then gets in: nothing locks the account for the window
  const travelling = address();
  const status = await waitFor('the owner to get in from a new address', async () => {
    const res = await login(user.email, user.password, travelling);
    return res.status === 200 ? res.status : undefined;
  }, 10_000, 100);
  t.is(status, 200);
});

test('failures across many accounts from one address → 429 for that address', async (t) => {
  const { user } = await registerAndLogin(app.url);
  const host = address();
  let status = 0;
  for (let i = 0; i < 9 && status !== 429; i++) status = (await login(`nobody-${i}-${host}@example.com`, 'Wr0ng-pass', host)).status;
  t.is(status, 429);
  const blocked = await login(user.email, user.password, host);
  t.is(blocked.status, 429);
  t.regex(blocked.body.detail, /from this address/);
  t.is((await login(user.email, user.password, address())).status, 200);
});

test('a success clears the pair count', async (t) => {
  const { user } = await registerAndLogin(app.url);
  const ip = address();
  for (let i = 0; i < 2; i++) t.is((await login(user.email, 'Wr0ng-pass', ip)).status, 401);
  t.is((await login(user.email, user.password, ip)).status, 200);
  for (let i = 0; i < 2; i++) t.is((await login(user.email, 'Wr0ng-pass', ip)).status, 401);
  t.is((await login(user.email, user.password, ip)).status, 200);
});

// serial (before the others), like the replica test: at most two apps of this file at a time
test.serial('X-Forwarded-For is not trusted unless TRUST_PROXY is on: spoofed addresses share one budget', async (t) => {
  const direct = await startTestApp({ env: { LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: '2' } });
  try {
    const { user } = await registerAndLogin(direct.url);
    const spoofed = (ip: string, password: string) =>
      api(direct.url, 'POST', '/api/v1/auth/login', { body: { email: user.email, password }, headers: { 'x-forwarded-for': ip } });
    t.is((await spoofed('10.0.0.1', 'Wr0ng-pass')).status, 401);
    t.is((await spoofed('10.0.0.2', 'Wr0ng-pass')).status, 401);
    t.is((await spoofed('10.0.0.3', user.password)).status, 429);
  } finally {
    await direct.stop();
  }
});

test.serial('the counts are shared by replicas: failures on one process are refused by another on the same store', async (t) => {
  // a second process on the same database and Redis prefix, as a second replica of one deployment is
  const replica = await startTestApp({ db: app.db, env: app.env });
  try {
    const { user } = await registerAndLogin(app.url);
    const ip = address();
    const on = (base: string, password: string) => api(base, 'POST', '/api/v1/auth/login', { body: { email: user.email, password }, headers: { 'x-forwarded-for': ip } });
    t.is((await on(app.url, 'Wr0ng-pass')).status, 401);
    t.is((await on(replica.url, 'Wr0ng-pass')).status, 401);
    t.is((await on(app.url, 'Wr0ng-pass')).status, 401);
    const refused = await on(replica.url, user.password);
    t.is(refused.status, 429, 'the replica counted the three failures made on either process');
    t.regex(refused.body.detail, /this account from this address/);
    if (testBackend() === 'postgres') {
      const rows = await app.app.databases.forModule('auth').raw(`SELECT count(*)::int AS n FROM auth.rate_limits WHERE key LIKE '%login:pair:%'`);
      t.true(rows.rows[0].n > 0, 'the counts are rows of auth.rate_limits');
    }
  } finally {
    await replica.stop();
  }
});
