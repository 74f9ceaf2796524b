import test from 'ava';
import { createFlags } from '../../src/platform/flags.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { api, registerAndLogin, startTestApp } from '../helpers/app.ts';

const logger = createLogger('silent');

test('without Unleash the YAML defaults serve, and FLAGS_BOOTSTRAP overrides them', async (t) => {
  const flags = createFlags({ appName: 'x', environment: 'development', refreshIntervalMs: 1000, overrides: { use_local_jwt: true }, logger });
  t.is(flags.status().source, 'bootstrap');
  t.false(flags.isEnabled('use_rs256_tokens'));
  t.true(flags.isEnabled('accept_legacy_hs256_tokens'));
  t.true(flags.isEnabled('use_local_jwt'));
  t.false(await flags.waitUntilSynchronized(50));
});

test('with Unleash unreachable the client serves bootstrap values and never blocks', async (t) => {
  const flags = createFlags({
    url: 'http://127.0.0.1:9/api/',
    apiToken: 'x',
    appName: 'unreachable',
    environment: 'development',
    refreshIntervalMs: 200,
    overrides: {},
    logger,
  });
  t.false(await flags.waitUntilSynchronized(500));
  t.is(flags.status().source, 'unleash');
  t.false(flags.status().synchronized);
  t.true(flags.isEnabled('accept_legacy_hs256_tokens'));
  t.false(flags.isEnabled('use_rs256_tokens'));
  await flags.close();
});

test('the service starts and serves when UNLEASH_URL points nowhere', async (t) => {
  const app = await startTestApp({ env: { UNLEASH_URL: 'http://127.0.0.1:9/api/', UNLEASH_API_TOKEN: 'x' } });
  t.teardown(() => app.stop());
  const { access } = await registerAndLogin(app.url);
  t.is((await api(app.url, 'GET', '/api/v1/auth/me', { token: access })).status, 200);
});

test('a flag flipped in the real Unleash reaches a running app and changes its behaviour', async (t) => {
  const app = await startTestApp({ unleash: true });
  t.teardown(() => app.stop());
  t.is(app.app.flags.status().synchronized, true);
  const before = await registerAndLogin(app.url);
  t.is(JSON.parse(Buffer.from(before.access.split('.')[0]!, 'base64url').toString()).alg, 'HS256');
  await app.setFlag('use_rs256_tokens', true);
  const after = await registerAndLogin(app.url);
  const header = JSON.parse(Buffer.from(after.access.split('.')[0]!, 'base64url').toString());
  t.is(header.alg, 'RS256');
  t.truthy(header.kid);
  await app.setFlag('use_rs256_tokens', false);
  const again = await registerAndLogin(app.url);
  t.is(JSON.parse(Buffer.from(again.access.split('.')[0]!, 'base64url').toString()).alg, 'HS256');
});
