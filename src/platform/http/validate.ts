import type { Context } from 'koa';
import type { z } from 'zod';
import { ValidationError } from '../errors.ts';
import { storableInput } from '../input.ts';

/**
 * Every HTTP input goes through one of these, so every input first passes `storableInput` (no NUL, no
 * unpaired surrogate, in any string at any depth) and then its own schema; a failure is a 422 naming
 * each bad field.
 */
function parse<S extends z.ZodType>(schema: S, input: unknown, prefix?: string): z.infer<S> {
  const result = storableInput(schema).safeParse(input);
  if (!result.success) throw ValidationError.fromZod(result.error, prefix);
  return result.data as z.infer<S>;
}

/** Parse the JSON (or, on form paths, form) body against a schema. */
export function parseBody<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  return parse(schema, (ctx.request as { body?: unknown }).body ?? {});
}

/** `parseBody` without throwing: for pages that answer a bad form with HTML rather than problem+json. */
export function safeParseBody<S extends z.ZodType>(ctx: Context, schema: S): z.ZodSafeParseResult<z.infer<S>> {
  return storableInput(schema).safeParse((ctx.request as { body?: unknown }).body ?? {}) as z.ZodSafeParseResult<z.infer<S>>;
}

/** Parse query-string parameters; errors name the parameter (`query.limit`). */
export function parseQuery<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  return parse(schema, ctx.query, 'query');
}

/** Parse path parameters; errors name the parameter (`path.id`). */
export function parseParams<S extends z.ZodType>(ctx: Context, schema: S): z.infer<S> {
  return parse(schema, (ctx as { params?: unknown }).params ?? {}, 'path');
}
