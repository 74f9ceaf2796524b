import Koa, { type Context, type Middleware, type Next } from 'koa';
import { Router } from '@koa/router';
import helmet from 'koa-helmet';
import { ServiceCredentialError } from '../auth/service-credential.ts';
import { acceptCorrelationId, runWithContext } from '../context.ts';
import { DomainError, ServiceUnavailableError } from '../errors.ts';
import type { Health } from '../health.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Principal } from '../auth/principal.ts';
import { bodyMiddleware } from './body.ts';
import { errorMiddleware } from './error-middleware.ts';
import { metricsHandler } from './metrics-endpoint.ts';

export interface HttpState {
  correlationId: string;
  principal?: Principal;
  /** on /internal/…: the module process that called, from its service credential */
  serviceCaller?: string;
  /** the module deployment this request was proxied to (EXTRACTED), for the access log */
  routedTo?: string;
}

export type AppContext = Context & { state: HttpState };

export interface HttpAppOptions {
  logger: Logger;
  metrics: Metrics;
  health: Health;
  bodyLimit: string;
  trustProxy: boolean;
  routers: Router[];
  /** middleware mounted before the module routers (e.g. admin pages) */
  mounts?: Middleware[];
  /** exact paths that accept an HTML form post (application/x-www-form-urlencoded) as well as JSON */
  formPaths?: string[];
  /** GET /metrics on this app: off when METRICS_PORT serves it; behind METRICS_TOKEN when that is set */
  metricsEndpoint?: { onAppPort: boolean; token?: string | undefined };
  /** guards every path under /internal/ (the service credential), before any body is read */
  internalGuard?: Middleware;
  /** before the body is read: requests for a module that runs in a deployment of its own go there (ADR 0053) */
  routeProxy?: Middleware;
}

export interface HttpApp {
  koa: Koa;
  /** requests currently being handled; shutdown waits for this to reach zero */
  inFlight(): number;
}

/**
 * A method no router implements (TRACE, PROPFIND, …) is the caller's mistake, not ours: @koa/router
 * answers it 501, which counted as a server error and logged at error level, so anyone could trip 5xx
 * alerts. It becomes 405 with the path's Allow, or 404 where no route has the path at all.
 */
const unroutedMethods: Middleware = async (ctx, next) => {
  await next();
  if (ctx.status !== 501 || ctx.body !== undefined) return;
  if (ctx.response.get('allow')) {
    ctx.status = 405;
  } else {
    ctx.remove('Allow');
    ctx.status = 404;
  }
};

/** Without a guard, nothing under /internal/ answers (closed by default). */
const refuseInternal: Middleware = () => {
  throw new ServiceCredentialError('the internal API is disabled here');
};

/** Koa app: correlation id → access log + metrics → problem+json errors → headers → JSON body → routes. */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { logger, metrics, health } = options;
  const koa = new Koa({ proxy: options.trustProxy });
  let inFlight = 0;
  metrics.gauge('http_requests_in_flight', 'HTTP requests being served now (the scrape that reads it included)', [], { collect: (g) => g.set(inFlight), aggregator: 'sum' });

  const correlation: Middleware = (ctx, next) => {
    const correlationId = acceptCorrelationId(ctx.get('x-correlation-id') || undefined);
    ctx.state.correlationId = correlationId;
    ctx.set('X-Correlation-ID', correlationId);
    return runWithContext({ correlationId, clientKey: ctx.ip }, () => next());
  };

  const observe: Middleware = async (ctx: Context, next: Next) => {
    inFlight++;
    const t0 = process.hrtime.bigint();
    try {
      await next();
    } finally {
      inFlight--;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      const routedTo = (ctx.state as HttpState).routedTo;
      metrics.httpDuration.observe(
        { method: ctx.method, route: route ? String(route) : routedTo ? `→ ${routedTo}` : 'unmatched', status: String(ctx.status) },
        seconds,
      );
      const line = { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1000), ...(routedTo ? { routed_to: routedTo } : {}) };
      if (ctx.status >= 500) logger.error(line, 'request failed');
      else if (!ctx.path.startsWith('/health') && ctx.path !== '/metrics') logger.info(line, 'request');
    }
  };

  const platform = new Router();
  platform.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  platform.get('/health/startup', (ctx) => {
    if (!health.isStarted) throw new ServiceUnavailableError('still starting');
    ctx.body = { status: 'started' };
  });
  platform.get('/health/ready', async (ctx) => {
    const report = await health.readiness();
    if (!report.ready) {
      const failing = Object.entries(report.checks)
        .filter(([, c]) => c.status === 'failing')
        .map(([name]) => name);
      const reason = health.isDraining
        ? 'shutting down'
        : !health.isStarted
          ? 'still starting'
          : `failing: ${failing.join(', ')}`;
      throw new ServiceUnavailableError(`not ready (${reason})`, { failing, checks: report.checks });
    }
    ctx.body = { status: report.degraded.length > 0 ? 'degraded' : 'ready', profile: report.profile, degraded: report.degraded, checks: report.checks };
  });
  const metricsEndpoint = options.metricsEndpoint ?? { onAppPort: true };
  if (metricsEndpoint.onAppPort) platform.get('/metrics', metricsHandler({ metrics, token: metricsEndpoint.token }));
  const internalGuard = options.internalGuard ?? refuseInternal;

  koa.use(correlation);
  koa.use(observe);
  koa.use(errorMiddleware(logger));
  koa.use(unroutedMethods);
  koa.use(helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'"] } } }));
  koa.use((ctx, next) => (ctx.path.startsWith('/internal/') ? internalGuard(ctx, next) : next()));
  if (options.routeProxy) koa.use(options.routeProxy);
  for (const middleware of bodyMiddleware({ jsonLimit: options.bodyLimit, formPaths: options.formPaths ?? [] })) koa.use(middleware);
  koa.use(platform.routes());
  for (const mount of options.mounts ?? []) koa.use(mount);
  for (const router of options.routers) {
    koa.use(router.routes());
    koa.use(router.allowedMethods());
  }
  koa.on('error', (err: unknown) => {
    if (err instanceof DomainError) return;
    logger.debug({ err }, 'koa error event');
  });
  return { koa, inFlight: () => inFlight };
}
