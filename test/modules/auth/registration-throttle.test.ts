import test from 'ava';
import { api, newUser, startTestApp, type TestApp } from '../../helpers/app.ts';

// Registration hashes with argon2 and had no throttle: 19 burst registrations were all accepted (issue 8).
let app: TestApp;
test.before(async () => {
  app = await startTestApp({ env: { TRUST_PROXY: 'true', REGISTER_MAX_PER_IP: '3', REGISTER_WINDOW_SECONDS: '600' } });
});
test.after.always(async () => {
  await app?.stop();
});

const register = (body: unknown, ip: string) => api(app.url, 'POST', '/api/v1/auth/register', { body, headers: { 'x-forwarded-for': ip } });

test('a burst of registrations from one address: the first REGISTER_MAX_PER_IP pass, the rest are 429 with Retry-After', async (t) => {
  const results = [];
  for (let i = 0; i < 19; i++) results.push(await register(newUser('burst'), '203.0.113.7'));
  t.deepEqual(results.map((r) => r.status), [201, 201, 201, ...Array<number>(16).fill(429)]);
  const refused = results[3]!;
  t.is(refused.body.type, 'urn:boxoffice:problem:too-many-requests');
  t.regex(refused.body.detail, /registrations from this address/);
  const retryAfter = Number(refused.headers.get('retry-after'));
  t.true(retryAfter > 0 && retryAfter <= 600, String(retryAfter));
  t.is((await register(newUser('elsewhere'), '203.0.113.8')).status, 201, 'another address is not affected');
});

test('a taken email counts as an attempt; a body that fails validation does not reach the throttle', async (t) => {
  const ip = '203.0.113.20';
  const user = newUser('taken');
  t.is((await register(user, ip)).status, 201);
  t.is((await register(user, ip)).status, 409);
  for (let i = 0; i < 5; i++) t.is((await register({ email: 'not-an-email', password: 'x', full_name: '' }, ip)).status, 422);
  t.is((await register(newUser('third'), ip)).status, 201);
  t.is((await register(newUser('fourth'), ip)).status, 429);
});
