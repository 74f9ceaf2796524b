import test from 'ava';
import { Router } from '@koa/router';
import { uncoveredRoutes } from '../../src/migration/extraction/route-coverage.ts';
import { MODULE_REGISTRY } from '../../src/module-registry.ts';
import { startTestApp, type TestApp } from '../helpers/app.ts';

// EXTRACTED sends a module's public routes to its own deployment by the path prefixes the registry
// declares; a route outside them would stay behind in the monolith, one under another module's would
// go to the wrong service.
let t0: TestApp;
test.before(async () => {
  t0 = await startTestApp({ start: false });
});
test.after.always(async () => {
  await t0?.stop();
});

const paths = (m: keyof typeof MODULE_REGISTRY) => MODULE_REGISTRY[m].publicPaths;

test('every public route of every module lies under its own publicPaths and no other', (t) => {
  t.is(t0.app.host.modules.length, 5);
  t.true(t0.app.host.modules.every((m) => m.routes.length > 0));
  t.deepEqual(uncoveredRoutes(t0.app.host.modules, paths), []);
});

test('a planted route outside the declared paths, or under another module, is reported', (t) => {
  const stray = new Router({ prefix: '/api/v1' });
  stray.get('/seat-maps/:id', (ctx) => void (ctx.body = {}));
  stray.get('/bookings/export', (ctx) => void (ctx.body = {}));
  const modules = [...t0.app.host.modules.filter((m) => m.name !== 'movie'), { name: 'movie' as const, routes: [...t0.app.host.modules.find((m) => m.name === 'movie')!.routes, stray] }];
  const problems = uncoveredRoutes(modules, paths);
  t.is(problems.length, 3, problems.join('\n'));
  t.true(problems.some((p) => p.includes('/api/v1/seat-maps/:id is outside')));
  t.true(problems.some((p) => p.includes("/api/v1/bookings/export falls under booking's publicPaths")));
});
