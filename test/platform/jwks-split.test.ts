import { randomUUID } from 'node:crypto';
import test from 'ava';
import { api, registerAndLogin, startTestApp, type TestApp } from '../helpers/app.ts';
import { waitFor } from '../helpers/events.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { freshRsaKey, goodClaims, signRs256 } from '../helpers/tokens.ts';

// A process without auth checks user tokens against auth's JWKS over HTTP (use_local_jwt). Auth sits
// behind a TCP proxy that the tests cut to take it "down" for the split process only.
let auth: TestApp;
let proxy: TcpProxy;
let split: TestApp;
test.before(async () => {
  auth = await startTestApp({ env: { ROLE: 'web', MODULES: 'auth,movie', FLAGS_BOOTSTRAP: 'use_rs256_tokens=true' } });
  proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(auth.url).port) }, { listening: false });
  split = await startTestApp({
    db: auth.db,
    env: {
      ROLE: 'web', MODULES: 'booking', SERVICE_URL_AUTH: `http://127.0.0.1:${proxy.port}`, SERVICE_URL_MOVIE: auth.url,
      FLAGS_BOOTSTRAP: 'use_local_jwt=true', JWKS_CACHE_SECONDS: '1', JWKS_REFETCH_COOLDOWN_SECONDS: '2',
      INTERNAL_CIRCUIT_THRESHOLD: '1', INTERNAL_CIRCUIT_HALF_OPEN_MS: '200', INTERNAL_HTTP_RETRIES: '0',
    },
  });
});
test.after.always(async () => {
  await split?.stop();
  await proxy?.close();
  await auth?.stop();
});

/** how many times auth served its JWKS (its own request histogram) */
async function jwksServed(): Promise<number> {
  const metric = await auth.app.metrics.httpDuration.get();
  return metric.values.filter((v) => v.metricName === 'http_request_duration_seconds_count' && String(v.labels.route).includes('jwks')).reduce((n, v) => n + v.value, 0);
}
const mine = (token: string) => api(split.url, 'GET', '/api/v1/bookings', { token });
const unknownKidToken = () => signRs256({ kid: `made-up-${randomUUID()}` }, goodClaims(randomUUID(), 'x@example.com'), freshRsaKey().privateKey);

// one test: the states follow each other (cold and down → up → cached → unknown kids → down again)
test.serial('cold start with auth down fails closed (503); then cached, refetched on an unknown kid once per cooldown, served from cache while auth is down', async (t) => {
  const { access } = await registerAndLogin(auth.url);

  // cold start, auth down: no keys at all — 503 problem naming auth, not 401 (the token may be good), not 500
  const cold = await mine(access);
  t.is(cold.status, 503, JSON.stringify(cold.body));
  t.is(cold.body.type, 'urn:boxoffice:problem:service-unavailable');
  t.regex(cold.body.detail, /auth/);

  // auth back: the first request fetches the set, the next ones use the cache
  await proxy.restore();
  const before = await jwksServed();
  await waitFor('the split process reads the JWKS once auth is back', async () => (await mine(access)).status === 200);
  const fetched = await jwksServed();
  t.true(fetched > before);
  for (let i = 0; i < 5; i++) t.is((await mine(access)).status, 200);
  t.is(await jwksServed(), fetched, 'cached: no fetch per request');

  // an unknown kid refetches once the cooldown has passed — then not again within it, however many come
  await waitFor('an unknown kid makes the split process refetch', async () => {
    t.is((await mine(unknownKidToken())).status, 401);
    return (await jwksServed()) > fetched;
  });
  const afterRefetch = await jwksServed();
  for (let i = 0; i < 10; i++) t.is((await mine(unknownKidToken())).status, 401);
  t.is(await jwksServed(), afterRefetch, 'a flood of made-up kids is one fetch per cooldown');

  // auth down with a warm cache: a failed refresh keeps the old set, so users keep being served
  await proxy.cut();
  const circuit = () => split.app.metrics.registry.getSingleMetricAsString('internal_circuit_state');
  await waitFor('a refresh of the stale set is tried and fails', async () => {
    t.is((await mine(access)).status, 200, 'served from the cached keys while auth is down');
    return /target="auth"\} 2/.test(await circuit());
  });
  t.is((await mine(access)).status, 200);
});
