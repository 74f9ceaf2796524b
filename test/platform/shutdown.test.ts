import { createServer } from 'node:http';
import { Router } from '@koa/router';
import test from 'ava';
import { Health } from '../../src/platform/health.ts';
import { createHttpApp } from '../../src/platform/http/app.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createMetrics } from '../../src/platform/metrics.ts';
import { gracefulShutdown } from '../../src/platform/shutdown.ts';
import { waitFor } from '../helpers/events.ts';

function slowApp(ms: number) {
  const router = new Router();
  router.get('/slow', async (ctx) => {
    await new Promise((r) => setTimeout(r, ms));
    ctx.body = { done: true };
  });
  const health = new Health();
  health.markStarted();
  const http = createHttpApp({ logger: createLogger('silent'), metrics: createMetrics(), health, bodyLimit: '10kb', trustProxy: false, routers: [router] });
  const server = createServer(http.koa.callback());
  return new Promise<{ server: typeof server; http: typeof http; health: Health; url: string }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, http, health, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` })),
  );
}

test('drains in-flight requests, turns readiness off, then runs the hooks in order', async (t) => {
  const { server, http, health, url } = await slowApp(300);
  const order: string[] = [];
  const pending = fetch(`${url}/slow`).then((r) => r.json());
  await waitFor('the request in flight', () => http.inFlight() > 0, 5_000, 5);
  const stopping = gracefulShutdown({
    server,
    health,
    inFlight: http.inFlight,
    timeoutMs: 3000,
    logger: createLogger('silent'),
    hooks: [
      { name: 'modules', run: async () => void order.push('modules') },
      { name: 'pools', run: async () => void order.push('pools') },
    ],
  });
  t.true(health.isDraining);
  t.false((await health.readiness()).ready);
  t.deepEqual(await pending, { done: true });
  const result = await stopping;
  t.true(result.clean);
  t.true(result.drainedMs >= 200);
  t.deepEqual(order, ['modules', 'pools']);
});

test('a request that outlives the bound is cut and the shutdown reports it unclean, on time', async (t) => {
  const { server, http, health, url } = await slowApp(5_000);
  const pending = fetch(`${url}/slow`).then(() => 'answered', () => 'cut');
  await waitFor('the request in flight', () => http.inFlight() > 0, 5_000, 5);
  const t0 = Date.now();
  const result = await gracefulShutdown({ server, health, inFlight: http.inFlight, timeoutMs: 400, logger: createLogger('silent'), hooks: [] });
  t.false(result.clean);
  t.true(result.forcedConnections);
  t.true(Date.now() - t0 < 1500);
  t.is(await pending, 'cut');
});

test('a hook that hangs does not hold the process past the bound', async (t) => {
  const { server, http, health } = await slowApp(1);
  const t0 = Date.now();
  const result = await gracefulShutdown({
    server,
    health,
    inFlight: http.inFlight,
    timeoutMs: 300,
    logger: createLogger('silent'),
    hooks: [{ name: 'stuck', run: () => new Promise(() => undefined) }],
  });
  t.false(result.clean);
  t.true(Date.now() - t0 < 1000);
});
