import type { Context } from 'koa';
import type { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** Parse the JSON body against a schema; a failure is a 422 naming each bad field. */
export function parseBody<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const body = (ctx.request as { body?: unknown }).body ?? {};
  const result = schema.safeParse(body);
  if (!result.success) throw ValidationError.fromZod(result.error);
  return result.data;
}

/** Parse query-string parameters; errors name the parameter (`query.limit`). */
export function parseQuery<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const result = schema.safeParse(ctx.query);
  if (!result.success) throw ValidationError.fromZod(result.error, 'query');
  return result.data;
}

/** Parse path parameters; errors name the parameter (`path.id`). */
export function parseParams<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  const result = schema.safeParse((ctx as { params?: unknown }).params ?? {});
  if (!result.success) throw ValidationError.fromZod(result.error, 'path');
  return result.data;
}
