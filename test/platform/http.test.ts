import test from 'ava';
import { api, startTestApp, type TestApp } from '../helpers/app.ts';

let t0: TestApp;
test.before(async () => {
  t0 = await startTestApp();
});
test.after.always(async () => {
  await t0?.stop();
});

test('a caller correlation id is echoed; a missing or unsafe one is replaced by a fresh uuid', async (t) => {
  const given = await api(t0.url, 'GET', '/health', { headers: { 'x-correlation-id': 'abc-123' } });
  t.is(given.headers.get('x-correlation-id'), 'abc-123');
  const minted = await api(t0.url, 'GET', '/health');
  t.regex(minted.headers.get('x-correlation-id') ?? '', /^[0-9a-f-]{36}$/);
  const unsafe = await api(t0.url, 'GET', '/health', { headers: { 'x-correlation-id': 'bad value\twith tab' } });
  t.not(unsafe.headers.get('x-correlation-id'), 'bad value\twith tab');
  t.regex(unsafe.headers.get('x-correlation-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('unknown routes are 404 problem+json with a stable type', async (t) => {
  const res = await api(t0.url, 'GET', '/api/v1/nope');
  t.is(res.status, 404);
  t.true(res.headers.get('content-type')?.startsWith('application/problem+json'));
  t.is(res.body.type, 'urn:boxoffice:problem:not-found');
  t.is(res.body.status, 404);
});

test('a wrong method on a known route is 405 with Allow', async (t) => {
  const res = await api(t0.url, 'DELETE', '/api/v1/auth/login');
  t.is(res.status, 405);
  t.is(res.body.type, 'urn:boxoffice:problem:method-not-allowed');
  t.regex(res.headers.get('allow') ?? '', /POST/);
});

test('malformed JSON is 400, an oversized body 413, a non-JSON body 415 — never 500', async (t) => {
  const malformed = await api(t0.url, 'POST', '/api/v1/auth/login', { raw: '{"email":', headers: { 'content-type': 'application/json' } });
  t.is(malformed.status, 400);
  t.is(malformed.body.type, 'urn:boxoffice:problem:malformed-json');
  const big = await api(t0.url, 'POST', '/api/v1/auth/login', {
    raw: JSON.stringify({ email: 'a@b.c', password: 'x'.repeat(200_000) }),
    headers: { 'content-type': 'application/json' },
  });
  t.is(big.status, 413);
  t.is(big.body.type, 'urn:boxoffice:problem:payload-too-large');
  const form = await api(t0.url, 'POST', '/api/v1/auth/login', { raw: 'email=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  t.is(form.status, 415);
  t.is(form.body.type, 'urn:boxoffice:problem:unsupported-media-type');
});

test('security headers are set on every response', async (t) => {
  const res = await api(t0.url, 'GET', '/health');
  t.is(res.headers.get('x-content-type-options'), 'nosniff');
  t.is(res.headers.get('x-frame-options'), 'SAMEORIGIN');
  t.truthy(res.headers.get('content-security-policy'));
  t.truthy(res.headers.get('strict-transport-security'));
});

test('/metrics exposes the request histogram by route template and status, plus process metrics', async (t) => {
  await api(t0.url, 'GET', '/api/v1/auth/me');
  const res = await api(t0.url, 'GET', '/metrics');
  t.is(res.status, 200);
  t.regex(res.body, /http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/auth\/me"[^}]*status="401"/);
  t.regex(res.body, /process_cpu_user_seconds_total/);
});

test('health: liveness, startup and readiness report each dependency', async (t) => {
  t.is((await api(t0.url, 'GET', '/health')).status, 200);
  t.is((await api(t0.url, 'GET', '/health/startup')).status, 200);
  const ready = await api(t0.url, 'GET', '/health/ready');
  t.is(ready.status, 200);
  for (const dep of ['postgres', 'redis', 'module:auth', 'module:booking']) t.is(ready.body.checks[dep]?.status, 'ok', dep);
});
