import Koa, { type Context, type Middleware, type Next } from 'koa';
import { Router } from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import helmet from 'koa-helmet';
import { acceptCorrelationId, runWithContext } from '../context.ts';
import { DomainError, ServiceUnavailableError } from '../errors.ts';
import type { Health } from '../health.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { Principal } from '../auth/principal.ts';
import { errorMiddleware } from './error-middleware.ts';

export interface HttpState {
  correlationId: string;
  principal?: Principal;
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
}

export interface HttpApp {
  koa: Koa;
  /** requests currently being handled; shutdown waits for this to reach zero */
  inFlight(): number;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function hasBody(ctx: Context): boolean {
  const len = ctx.request.length;
  return (len !== undefined && len > 0) || ctx.get('transfer-encoding') !== '';
}

/** Koa app: correlation id → access log + metrics → problem+json errors → headers → JSON body → routes. */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  const { logger, metrics, health } = options;
  const koa = new Koa({ proxy: options.trustProxy });
  let inFlight = 0;

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
      metrics.httpDuration.observe(
        { method: ctx.method, route: route ? String(route) : 'unmatched', status: String(ctx.status) },
        seconds,
      );
      const line = { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1000) };
      if (ctx.status >= 500) logger.error(line, 'request failed');
      else if (!ctx.path.startsWith('/health') && ctx.path !== '/metrics') logger.info(line, 'request');
    }
  };

  const formPaths = new Set(options.formPaths ?? []);
  const requireJson: Middleware = (ctx, next) => {
    const form = formPaths.has(ctx.path) && ctx.is('application/x-www-form-urlencoded');
    if (BODY_METHODS.has(ctx.method) && hasBody(ctx) && !form && !ctx.is('application/json', '+json')) {
      throw new DomainError(415, 'unsupported-media-type', 'Unsupported media type', {
        detail: 'send the body as application/json',
      });
    }
    return next();
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
        .filter(([, c]) => c.status !== 'ok')
        .map(([name]) => name);
      const reason = health.isDraining
        ? 'shutting down'
        : !health.isStarted
          ? 'still starting'
          : `failing: ${failing.join(', ')}`;
      throw new ServiceUnavailableError(`not ready (${reason})`, { failing, checks: report.checks });
    }
    ctx.body = { status: 'ready', checks: report.checks };
  });
  platform.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  koa.use(correlation);
  koa.use(observe);
  koa.use(errorMiddleware(logger));
  koa.use(helmet({ contentSecurityPolicy: { directives: { defaultSrc: ["'self'"] } } }));
  koa.use(requireJson);
  koa.use(
    bodyParser({
      // forms only reach the parser on formPaths: requireJson turned every other form away with 415
      enableTypes: ['json', 'form'],
      formLimit: '16kb',
      jsonLimit: options.bodyLimit,
      jsonStrict: true,
      onError(err: Error & { status?: number }) {
        if (err.status === 413) {
          throw new DomainError(413, 'payload-too-large', 'Payload too large', {
            detail: `request body is larger than ${options.bodyLimit}`,
          });
        }
        if (err.status === 400) {
          throw new DomainError(400, 'malformed-json', 'Malformed JSON', {
            detail: 'request body is not valid JSON (an object or array is expected)',
          });
        }
        throw err;
      },
    }),
  );
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
