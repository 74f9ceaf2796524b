import test from 'ava';
import { ServiceCredential, SERVICE_AUDIENCE } from '../../src/platform/auth/service-credential.ts';
import { api, registerAndLogin, startTestApp, TEST_INTERNAL_API_SECRET, type TestApp } from '../helpers/app.ts';
import { adminToken, createCatalog, type Catalog } from '../helpers/catalog.ts';
import { signHs256, unsigned } from '../helpers/tokens.ts';

// /internal/v1/… (what a split-out module's remote facade reads) answers only a service credential.
let t0: TestApp;
let admin: string;
let catalog: Catalog;
test.before(async () => {
  t0 = await startTestApp();
  admin = await adminToken(t0);
  catalog = await createCatalog(t0, admin, { rows: 1, perRow: 2 });
});
test.after.always(async () => {
  await t0?.stop();
});

const ANY_ID = '00000000-0000-4000-8000-000000000000';
const snapshot = () => `/internal/v1/movie/showtimes/${catalog.showtimeId}/snapshot`;
const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}) => ({ iss: SERVICE_AUDIENCE, aud: SERVICE_AUDIENCE, sub: 'service:booking', iat: now(), exp: now() + 60, ...extra });

test('a valid service credential reads the snapshot and the layout', async (t) => {
  const token = await new ServiceCredential({ secret: TEST_INTERNAL_API_SECRET, caller: 'booking' }).token();
  const res = await api(t0.url, 'GET', snapshot(), { token });
  t.is(res.status, 200, JSON.stringify(res.body));
  t.is(res.body.showtime_id, catalog.showtimeId);
  const layout = await api(t0.url, 'GET', `/internal/v1/movie/showtimes/${catalog.showtimeId}/layout`, { token });
  t.is(layout.status, 200);
  t.is(layout.body.length, 2);
  t.is((await api(t0.url, 'GET', '/internal/v1/nothing-here', { token })).status, 404);
});

test('anything else is a 401 problem, before a route or a body is looked at', async (t) => {
  const user = (await registerAndLogin(t0.url)).access;
  const cases: [string, Record<string, string>][] = [
    ['no credential', {}],
    ["a user's access token", { authorization: `Bearer ${user}` }],
    ["an admin's access token", { authorization: `Bearer ${admin}` }],
    ['signed with another secret', { authorization: `Bearer ${signHs256({}, claims(), 'another-deployments-secret-0123456789')}` }],
    ['alg none', { authorization: `Bearer ${unsigned({ alg: 'none', typ: 'JWT' }, claims())}.` }],
    ['expired', { authorization: `Bearer ${signHs256({}, claims({ iat: now() - 600, exp: now() - 300 }), TEST_INTERNAL_API_SECRET)}` }],
    ['the user API audience', { authorization: `Bearer ${signHs256({}, claims({ aud: 'boxoffice-api' }), TEST_INTERNAL_API_SECRET)}` }],
    ['Basic auth', { authorization: `Basic ${Buffer.from(`x:${TEST_INTERNAL_API_SECRET}`).toString('base64')}` }],
    ['the secret itself as a bearer', { authorization: `Bearer ${TEST_INTERNAL_API_SECRET}` }],
  ];
  // every module's internal endpoint, not only movie's: booking's and payment's facades over HTTP
  const paths = [snapshot(), `/internal/v1/booking/bookings/${ANY_ID}/for-payment`, `/internal/v1/payment/payments/${ANY_ID}`];
  for (const path of paths) {
    for (const [name, headers] of cases) {
      const res = await api(t0.url, 'GET', path, { headers });
      t.is(res.status, 401, `${path}: ${name}`);
      t.is(res.body.type, 'urn:boxoffice:problem:invalid-service-credential', `${path}: ${name}`);
      t.notRegex(JSON.stringify(res.body), /showtime_id/, name);
    }
  }
  const unknown = await api(t0.url, 'GET', '/internal/v1/nothing-here');
  t.is(unknown.status, 401, 'unknown internal paths are not told apart from known ones');
  const big = await api(t0.url, 'POST', '/internal/v1/x', { raw: 'x'.repeat(500_000), headers: { 'content-type': 'application/json' } });
  t.is(big.status, 401, 'refused before the body is read');
});

test('a process without INTERNAL_API_SECRET serves no internal API and cannot call one', async (t) => {
  const none = new ServiceCredential({ secret: undefined, caller: 'booking' });
  await t.throwsAsync(none.verify(`Bearer ${await new ServiceCredential({ secret: TEST_INTERNAL_API_SECRET, caller: 'x' }).token()}`), { message: /disabled/ });
  await t.throwsAsync(none.token(), { message: /INTERNAL_API_SECRET/ });
});

test('a minted token is reused, then renewed before it expires', async (t) => {
  let clock = Date.now();
  const credential = new ServiceCredential({ secret: TEST_INTERNAL_API_SECRET, caller: 'booking', ttlSeconds: 60, now: () => clock });
  const first = await credential.token();
  t.is(await credential.token(), first);
  clock += 41_000;
  const renewed = await credential.token();
  t.not(renewed, first);
  t.is(await credential.verify(`Bearer ${renewed}`), 'booking');
  clock += 70_000;
  await t.throwsAsync(credential.verify(`Bearer ${renewed}`), { message: /expired/ });
});
