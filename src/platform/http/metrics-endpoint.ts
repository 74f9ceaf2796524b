import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Context } from 'koa';
import { problemType, UnauthorizedError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';

export interface MetricsEndpointOptions {
  metrics: Metrics;
  /** METRICS_TOKEN: scrapes must send `Authorization: Bearer <token>` */
  token?: string | undefined;
}

/** Compared as SHA-256 digests: constant time, and the lengths of the secret and the guess do not show. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function authorized(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return m !== null && sameSecret(m[1]!, token);
}

/** GET /metrics on the app's port (when METRICS_PORT is not set): Prometheus text, behind METRICS_TOKEN if set. */
export function metricsHandler(options: MetricsEndpointOptions) {
  return async (ctx: Context): Promise<void> => {
    if (!authorized(ctx.get('authorization') || undefined, options.token)) {
      throw new UnauthorizedError('/metrics needs Authorization: Bearer <METRICS_TOKEN>');
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.type = options.metrics.registry.contentType;
    ctx.body = await options.metrics.exposition();
  };
}

/**
 * The metrics listener of METRICS_PORT: `GET /metrics` only (behind METRICS_TOKEN if set too), so the
 * public port serves no internals and a NetworkPolicy can open this port to Prometheus alone. Plain
 * node:http: nothing of the app's middleware is needed to answer one fixed route.
 */
export function createMetricsServer(options: MetricsEndpointOptions & { logger: Logger }): Server {
  return createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const problem = (status: number, slug: string, title: string, detail: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/problem+json', ...headers });
      res.end(JSON.stringify({ type: problemType(slug), title, status, detail, instance: path }));
    };
    if (path !== '/metrics') return problem(404, 'not-found', 'Not found', 'this port serves GET /metrics only');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return problem(405, 'method-not-allowed', 'Method not allowed', `${req.method} is not allowed on /metrics`, { allow: 'GET, HEAD' });
    }
    if (!authorized(req.headers.authorization, options.token)) {
      return problem(401, 'unauthorized', 'Unauthorized', '/metrics needs Authorization: Bearer <METRICS_TOKEN>', { 'www-authenticate': 'Bearer' });
    }
    options.metrics.exposition().then(
      (text) => {
        res.writeHead(200, { 'content-type': options.metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: unknown) => {
        options.logger.error({ err }, 'metrics could not be collected');
        problem(500, 'internal', 'Internal server error', 'metrics could not be collected');
      },
    );
  });
}
