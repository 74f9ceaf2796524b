import { bodyParser } from '@koa/bodyparser';
import type { Context, Middleware } from 'koa';
import { DomainError } from '../errors.ts';

export interface BodyOptions {
  /** largest JSON body (BODY_LIMIT) */
  jsonLimit: string;
  /** exact paths that accept an HTML form post (application/x-www-form-urlencoded) as well as JSON */
  formPaths: string[];
}

/** The only limit of a form post: the admin login form is an email, a password and a return path. */
export const FORM_LIMIT = '16kb';

/** Content-Encodings the body parser decodes (co-body's inflation); anything else is a 415. */
export const ACCEPTED_ENCODINGS = ['gzip', 'deflate', 'br'] as const;

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

function hasBody(ctx: Context): boolean {
  const len = ctx.request.length;
  return (len !== undefined && len > 0) || ctx.get('transfer-encoding') !== '';
}

interface ParserError extends Error {
  status?: number;
  type?: string;
  code?: string;
}

/**
 * What went wrong reading a body, as the client's problem. The parser's own errors carry a status; a
 * decompression stream's (zlib, brotli) do not, but only the request's bytes can make it fail, so they
 * are the client's fault too: a 400 naming the encoding, never a 500.
 */
function bodyProblem(err: ParserError, ctx: Context, options: BodyOptions): DomainError | undefined {
  const form = ctx.is('application/x-www-form-urlencoded') !== false;
  const encoding = ctx.get('content-encoding').trim().toLowerCase() || 'identity';
  if (err.status === 413) {
    const limit = form ? FORM_LIMIT : options.jsonLimit;
    return new DomainError(413, 'payload-too-large', 'Payload too large', {
      detail: `request body is larger than ${limit}${form ? ' (the limit of a form post)' : ''}`,
      extra: { limit },
    });
  }
  if (err.status === 415 && err.type === 'encoding.unsupported') {
    return new DomainError(415, 'unsupported-media-type', 'Unsupported media type', { detail: `${err.message}; send UTF-8` });
  }
  if (err.status === 415) {
    return new DomainError(415, 'unsupported-content-encoding', 'Unsupported content encoding', {
      detail: `Content-Encoding ${encoding} is not accepted; send identity, ${ACCEPTED_ENCODINGS.join(', ')}`,
      // RFC 7694: a 415 for a content coding names the codings that are accepted
      headers: { 'Accept-Encoding': ACCEPTED_ENCODINGS.join(', ') },
    });
  }
  if (err.status === 400 && /prototype property/.test(err.message)) {
    return new DomainError(400, 'forbidden-json-key', 'Forbidden JSON key', {
      detail: 'an object key "__proto__" is refused (prototype pollution), wherever it is in the body',
    });
  }
  if (err.status === 400 && err.type === 'request.aborted') return undefined;
  if (err.status === 400 && err.type !== 'request.size.invalid') {
    return new DomainError(400, 'malformed-json', form ? 'Malformed form' : 'Malformed JSON', {
      detail: form ? 'request body is not a valid form' : 'request body is not valid JSON (an object or array is expected)',
    });
  }
  if (err.status === undefined && encoding !== 'identity') {
    return new DomainError(400, 'undecodable-body', 'Undecodable body', {
      detail: `request body is not valid ${encoding} data (Content-Encoding: ${encoding})`,
    });
  }
  return undefined;
}

/**
 * Request bodies: JSON everywhere (415 for anything else), HTML forms only on `formPaths`; every way a
 * body can fail to parse is a 4xx problem.
 */
export function bodyMiddleware(options: BodyOptions): Middleware[] {
  const formPaths = new Set(options.formPaths);
  const requireJson: Middleware = (ctx, next) => {
    const form = formPaths.has(ctx.path) && ctx.is('application/x-www-form-urlencoded');
    if (BODY_METHODS.has(ctx.method) && hasBody(ctx) && !form && !ctx.is('application/json', '+json')) {
      throw new DomainError(415, 'unsupported-media-type', 'Unsupported media type', {
        detail: 'send the body as application/json',
      });
    }
    return next();
  };
  const parser = bodyParser({
    // forms only reach the parser on formPaths: requireJson turned every other form away with 415
    enableTypes: ['json', 'form'],
    formLimit: FORM_LIMIT,
    jsonLimit: options.jsonLimit,
    jsonStrict: true,
    onError(err: ParserError, ctx: Context) {
      throw bodyProblem(err, ctx, options) ?? err;
    },
  }) as Middleware;
  return [requireJson, parser];
}
