import { createHash } from 'node:crypto';
import type { Context } from 'koa';

/** A cached value's JSON and ETag, computed once per object (cached values are frozen and reused). */
const serialized = new WeakMap<object, { text: string; etag: string }>();

function serialize(value: object): { text: string; etag: string } {
  let s = serialized.get(value);
  if (!s) {
    const text = JSON.stringify(value);
    s = { text, etag: `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"` };
    if (Object.isFrozen(value)) serialized.set(value, s);
  }
  return s;
}

/**
 * A JSON answer with a strong ETag; 304 without a body when the caller already has it. Compared here
 * rather than with ctx.fresh, which ignores If-None-Match when the request says Cache-Control: no-cache
 * (as fetch() does for conditional requests); an origin may still answer 304.
 */
export function sendJsonWithEtag(ctx: Context, value: object): void {
  const { text, etag } = serialize(value);
  ctx.set('ETag', etag);
  const ifNoneMatch = ctx.get('if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((v) => v.trim().replace(/^W\//, '') === etag || v.trim() === '*')) {
    ctx.status = 304;
    return;
  }
  ctx.type = 'application/json';
  ctx.body = text;
}
