import { randomBytes } from 'node:crypto';
import test from 'ava';
import { FlagStoreError, unleashFlagStore } from '../../src/migration/cutover/flag-store.ts';
import { api, newUser, startTestApp, type TestApp } from '../helpers/app.ts';
import { waitFor } from '../helpers/events.ts';
import { setFlag, unleashTestEnv } from '../helpers/unleash.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

/**
 * Unleash down when the app starts: it starts anyway, on the YAML defaults (every module on the legacy
 * tables), and serves; the cutover tool says Unleash is unreachable instead of guessing. Once Unleash is
 * back, the app follows what it says.
 */
const appName = `bo-test-down-${randomBytes(5).toString('hex')}`;
let proxy: TcpProxy;
let app: TestApp;
test.before(async () => {
  const { url, clientToken } = unleashTestEnv();
  const target = new URL(url);
  proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) }, { listening: false });
  await setFlag('dual_write_auth_db', appName, true);
  app = await startTestApp({
    env: {
      UNLEASH_URL: `http://127.0.0.1:${proxy.port}/api`,
      UNLEASH_API_TOKEN: clientToken,
      UNLEASH_APP_NAME: appName,
      UNLEASH_REFRESH_INTERVAL_MS: '200',
    },
  });
});
test.after.always(async () => {
  await setFlag('dual_write_auth_db', appName, false).catch(() => undefined);
  await app?.stop();
  await proxy?.close();
});

test.serial('with Unleash unreachable the app starts on the YAML defaults and the tool says so', async (t) => {
  t.false(app.app.flags.status().synchronized);
  t.is(app.app.strangler.router.describe('auth').phase, 'LEGACY');
  t.is((await api(app.url, 'POST', '/api/v1/auth/register', { body: newUser('down') })).status, 201);
  const tool = unleashFlagStore({ url: `http://127.0.0.1:${proxy.port}/api`, token: unleashTestEnv().adminToken, appName, environment: 'development', timeoutMs: 1_000 });
  const err = await t.throwsAsync(tool.read(['dual_write_auth_db']), { instanceOf: FlagStoreError });
  t.regex(err.message, /Unleash is unreachable at http:\/\/127\.0\.0\.1:\d+\/api/);
});

test.serial('once Unleash is back the app follows it', async (t) => {
  await proxy.restore();
  await waitFor('the app synchronized with Unleash', () => app.app.flags.status().synchronized, 30_000);
  await waitFor('auth dual-writes as Unleash says', () => app.app.strangler.router.describe('auth').phase === 'DUAL_WRITE', 10_000);
  t.pass();
});
