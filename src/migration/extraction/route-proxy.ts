import type { IncomingHttpHeaders } from 'node:http';
import type { Middleware } from 'koa';
import { Pool, errors as undiciErrors } from 'undici';
import type { ModuleName } from '../../platform/config.ts';
import { DomainError } from '../../platform/errors.ts';
import type { FlagContext } from '../../platform/flags.ts';
import type { HttpState } from '../../platform/http/app.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Metrics } from '../../platform/metrics.ts';
import { phaseFlags, type FlagReader } from '../phases.ts';

/** One module's public routes and where its own deployment answers them. */
export interface ExtractionTarget {
  module: ModuleName;
  /** path prefixes of the module's public API (`/api/v1/bookings`), matched on a segment boundary */
  prefixes: readonly string[];
  /** SERVICE_URL_<MODULE> */
  serviceUrl: string;
}

export interface RouteProxyOptions {
  targets: readonly ExtractionTarget[];
  flags: FlagReader;
  metrics: Metrics;
  logger: Logger;
  /** how long the service may take to send its response headers (then 504) */
  timeoutMs: number;
  /** how long connecting may take (then 502) */
  connectTimeoutMs?: number;
}

export interface RouteProxy {
  middleware: Middleware;
  close(): Promise<void>;
}

/** The service did not answer: refused, reset, unresolvable. */
export class BadGatewayError extends DomainError {
  constructor(module: ModuleName, detail: string) {
    super(502, 'bad-gateway', 'Bad gateway', { detail: `the ${module} service did not answer: ${detail}`, extra: { module }, headers: { 'Retry-After': '1' } });
  }
}

/** The service took longer than ROUTE_PROXY_TIMEOUT_MS to start its answer. */
export class GatewayTimeoutError extends DomainError {
  constructor(module: ModuleName, timeoutMs: number) {
    super(504, 'gateway-timeout', 'Gateway timeout', { detail: `the ${module} service did not answer within ${timeoutMs} ms`, extra: { module } });
  }
}

// RFC 9110 §7.6.1: connection-specific headers are not forwarded, in either direction
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/** set on every proxied request: the receiving process serves it, never routes it on */
export const ROUTED_HEADER = 'x-boxoffice-routed';

const matches = (path: string, prefix: string): boolean => path === prefix || path.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`);

/**
 * Who a request is for, for a sticky rollout: the token's subject, read without verifying it. Routing
 * only picks which deployment verifies the token; a forged subject buys nothing but a choice of verifier.
 */
export function routingSubject(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*\s*$/.exec(authorization ?? '');
  if (!m) return undefined;
  try {
    const sub = (JSON.parse(Buffer.from(m[1]!, 'base64url').toString('utf8')) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub.length > 0 && sub.length <= 100 ? sub : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The strangler's routing step (EXTRACTED, ADR 0053): a module's public routes go to its own deployment
 * while `route_<module>_to_service` is on for the caller (sticky per user; anonymous callers by client
 * address) — in any process that knows the deployment's address, hosting the module or not (a process
 * that does not host it answers 404 while the flag is off for the caller). The request and the answer stream
 * through untouched, with the caller's Authorization, the correlation id and the client address; a
 * service that is down is a 502 problem, a slow one a 504. Nothing is retried: a booking is not
 * idempotent, and the caller's own retry (with its Idempotency-Key) is the safe one.
 */
export function createRouteProxy(options: RouteProxyOptions): RouteProxy {
  const pools = new Map<string, Pool>();
  const pool = (origin: string): Pool => {
    let p = pools.get(origin);
    if (!p) {
      p = new Pool(origin, { connections: 128, connectTimeout: options.connectTimeoutMs ?? 3_000, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs, keepAliveTimeout: 4_000 });
      pools.set(origin, p);
    }
    return p;
  };
  const proxied = options.metrics.counter('boxoffice_route_proxied_total', 'Requests the monolith sent to a module\'s own deployment (EXTRACTED), by outcome', ['module', 'outcome'] as const);
  const targets = options.targets.map((t) => ({ ...t, url: new URL(t.serviceUrl), flag: phaseFlags(t.module).routeToService }));

  const routeOf = (path: string) => targets.find((t) => t.prefixes.some((p) => matches(path, p)));

  const middleware: Middleware = async (ctx, next) => {
    const target = routeOf(ctx.path);
    // a request we (or another process of this deployment) already routed is served where it landed:
    // a service given its own SERVICE_URL by mistake must not send requests round in a loop
    if (!target || ctx.get(ROUTED_HEADER)) return next();
    const user = routingSubject(ctx.get('authorization') || undefined);
    const context: FlagContext = user ? { userId: user } : { sessionId: ctx.ip };
    if (!options.flags.isEnabled(target.flag, context)) return next();
    const state = ctx.state as HttpState;
    state.routedTo = `${target.module}-service`;
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(ctx.req.headers as IncomingHttpHeaders)) {
      if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'x-forwarded-for' && name !== 'x-correlation-id') headers[name] = value;
    }
    // the client as this process sees it (TRUST_PROXY decides whether a caller's own header counts):
    // the service, behind us with TRUST_PROXY=true, takes it as the client address (throttles, audit)
    headers['x-forwarded-for'] = ctx.ip;
    headers['x-forwarded-proto'] = ctx.protocol;
    headers['x-forwarded-host'] = ctx.host;
    headers['x-correlation-id'] = state.correlationId;
    headers[ROUTED_HEADER] = target.module;
    const hasBody = ctx.req.headers['content-length'] !== undefined || ctx.req.headers['transfer-encoding'] !== undefined;
    let res: Awaited<ReturnType<Pool['request']>>;
    try {
      res = await pool(target.url.origin).request({
        path: `${target.url.pathname.replace(/\/$/, '')}${ctx.originalUrl}`,
        method: ctx.method as 'GET',
        headers,
        body: hasBody ? ctx.req : null,
      });
    } catch (err) {
      const timedOut = err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError;
      proxied.inc({ module: target.module, outcome: timedOut ? 'timeout' : 'unreachable' });
      options.logger.warn({ module: target.module, err: String(err) }, timedOut ? 'module service timed out' : 'module service unreachable');
      if (timedOut) throw new GatewayTimeoutError(target.module, options.timeoutMs);
      throw new BadGatewayError(target.module, err instanceof Error ? (err as Error & { code?: string }).code ?? err.message : String(err));
    }
    proxied.inc({ module: target.module, outcome: res.statusCode >= 500 ? 'server_error' : 'ok' });
    ctx.status = res.statusCode;
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined && !HOP_BY_HOP.has(name) && name !== 'content-length') ctx.set(name, value);
    }
    // the service's correlation id is ours (we sent it); its headers stand as the service set them
    ctx.set('x-correlation-id', state.correlationId);
    if (ctx.method === 'HEAD' || res.statusCode === 204 || res.statusCode === 304) {
      await res.body.dump();
      ctx.body = '';
      return;
    }
    ctx.body = res.body;
  };

  return {
    middleware,
    async close() {
      await Promise.allSettled([...pools.values()].map((p) => p.close()));
      pools.clear();
    },
  };
}
