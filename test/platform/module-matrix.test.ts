import test from 'ava';
import { MODULE_NAMES, type ModuleName } from '../../src/platform/config.ts';
import { api, startTestApp, type TestApp } from '../helpers/app.ts';
import { createTestVhost, type TestVhost } from '../helpers/events.ts';

// Every module runs alone (MODULES=<one>, the others reached by SERVICE_URL_<M> on a full app): it starts,
// is ready, and serves its own routes only. One route per module, answered without a token where it can be.
const ROUTE: Record<ModuleName, { path: string; own: number }> = {
  auth: { path: '/.well-known/jwks.json', own: 200 },
  movie: { path: '/api/v1/movies', own: 200 },
  booking: { path: '/api/v1/bookings', own: 401 },
  payment: { path: '/api/v1/payments/00000000-0000-4000-8000-000000000000', own: 401 },
  notification: { path: '/api/v1/notifications', own: 401 },
};

let full: TestApp;
let vhost: TestVhost;
test.before(async () => {
  vhost = await createTestVhost();
  full = await startTestApp({ env: { AMQP_URL: vhost.url } });
});
test.after.always(async () => {
  await full?.stop();
  await vhost?.drop();
});

for (const m of MODULE_NAMES) {
  test.serial(`MODULES=${m} alone: starts, is ready, serves only its own routes`, async (t) => {
    const urls = Object.fromEntries(MODULE_NAMES.filter((o) => o !== m).map((o) => [`SERVICE_URL_${o.toUpperCase()}`, full.url]));
    const alone = await startTestApp({ db: full.db, env: { AMQP_URL: vhost.url, MODULES: m, ...urls } });
    t.teardown(() => alone.stop());
    t.deepEqual(alone.app.host.names, [m]);
    const ready = await api(alone.url, 'GET', '/health/ready');
    t.is(ready.status, 200, JSON.stringify(ready.body));
    for (const o of MODULE_NAMES) {
      const res = await api(alone.url, 'GET', ROUTE[o].path);
      t.is(res.status, o === m ? ROUTE[o].own : 404, `${o}'s route on the ${m} process`);
    }
  });
}
