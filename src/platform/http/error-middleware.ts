import type { Context, Next } from 'koa';
import { ZodError } from 'zod';
import { isDatabaseUnavailable } from '../db.ts';
import { DatabaseUnavailableError, DomainError, ValidationError, problemType } from '../errors.ts';
import type { Logger } from '../logger.ts';

const PROBLEM = 'application/problem+json';

interface HttpishError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  type?: string;
  message?: string;
}

/** Slugs for errors Koa and its parsers raise themselves (ctx.throw, co-body, koa-router). */
function slugForStatus(status: number, type?: string): string {
  if (type === 'entity.parse.failed') return 'malformed-json';
  if (status === 413) return 'payload-too-large';
  if (status === 415) return 'unsupported-media-type';
  if (status === 405) return 'method-not-allowed';
  if (status === 404) return 'not-found';
  return 'bad-request';
}

const titleFor = (slug: string): string => slug.replace(/-/g, ' ').replace(/^./, (c) => c.toUpperCase());

function writeProblem(ctx: Context, status: number, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  ctx.status = status;
  for (const [k, v] of Object.entries(headers)) ctx.set(k, v);
  ctx.body = { status, instance: ctx.path, ...body };
  ctx.type = PROBLEM;
}

/**
 * The one place errors become responses: DomainError → its status and problem body, zod → 422 with the
 * fields named, Koa/http errors → their 4xx, everything else → 500 without internals.
 */
export function errorMiddleware(logger: Logger) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status >= 400 && ctx.body === undefined) {
        const slug = slugForStatus(ctx.status);
        writeProblem(ctx, ctx.status, {
          type: problemType(slug),
          title: titleFor(slug),
          detail: ctx.status === 404 ? `no route for ${ctx.method} ${ctx.path}` : `${ctx.method} is not allowed on ${ctx.path}`,
        });
      }
    } catch (raw) {
      // a database outage is the client's 503 to retry, not our 500; the pools log the outage once (DatabaseOutage)
      const err = raw instanceof ZodError ? ValidationError.fromZod(raw) : !(raw instanceof DomainError) && isDatabaseUnavailable(raw) ? new DatabaseUnavailableError() : raw;
      if (err instanceof DatabaseUnavailableError) {
        logger.debug({ err: raw }, 'database unavailable');
      } else if (err instanceof DomainError) {
        if (err.status >= 500) logger.error({ err }, err.message);
      }
      if (err instanceof DomainError) {
        writeProblem(
          ctx,
          err.status,
          { type: err.type, title: err.title, ...(err.detail ? { detail: err.detail } : {}), ...err.extra },
          err.headers,
        );
        return;
      }
      const h = (err ?? {}) as HttpishError;
      const status = h.status ?? h.statusCode;
      if (typeof status === 'number' && status >= 400 && status < 500) {
        writeProblem(ctx, status, {
          type: problemType(slugForStatus(status, h.type)),
          title: titleFor(slugForStatus(status, h.type)),
          detail: h.expose !== false && h.message ? h.message : undefined,
        });
        return;
      }
      logger.error({ err }, 'unhandled error');
      writeProblem(ctx, 500, {
        type: problemType('internal'),
        title: 'Internal server error',
        detail: 'the server could not complete the request; quote the correlation id when reporting it',
      });
    }
  };
}
