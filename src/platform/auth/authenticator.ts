import type { Middleware } from 'koa';
import { currentContext } from '../context.ts';
import { ForbiddenError, UnauthorizedError } from '../errors.ts';
import type { Metrics } from '../metrics.ts';
import type { TokenVerifier } from './jwt-verifier.ts';
import type { Principal, Role } from './principal.ts';

export interface AuthenticatorOptions {
  /** local validation against the cached JWKS (the target) */
  local: TokenVerifier;
  /** the old per-request check: the auth facade's verify (in-process, or GET /api/v1/auth/verify when remote) */
  remote: (token: string) => Promise<Principal>;
  /** flag use_local_jwt */
  useLocal: () => boolean;
  metrics?: Metrics;
}

const BEARER = /^Bearer\s+([^\s]+)\s*$/i;

export function bearerToken(header: string | undefined): string {
  if (!header) throw new UnauthorizedError('missing Authorization: Bearer token');
  const m = BEARER.exec(header);
  if (!m) throw new UnauthorizedError('Authorization header must be "Bearer <token>"');
  return m[1]!;
}

/** Turns a bearer token into a Principal, on the path the use_local_jwt flag picks. */
export class Authenticator {
  private readonly checks;
  private readonly options: AuthenticatorOptions;

  constructor(options: AuthenticatorOptions) {
    this.options = options;
    this.checks = options.metrics?.counter('auth_token_checks_total', 'Access-token checks by path and result', [
      'path',
      'result',
    ]);
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = bearerToken(authorization);
    const path = this.options.useLocal() ? 'local' : 'remote';
    try {
      const principal = path === 'local' ? await this.options.local.verify(token) : await this.options.remote(token);
      this.checks?.inc({ path, result: 'ok' });
      const context = currentContext();
      if (context) context.userId = principal.userId;
      return principal;
    } catch (err) {
      this.checks?.inc({ path, result: err instanceof UnauthorizedError ? 'rejected' : 'error' });
      throw err;
    }
  }

  /** Require a valid token; the principal lands on ctx.state.principal. */
  required(): Middleware {
    return async (ctx, next) => {
      ctx.state.principal = await this.authenticate(ctx.get('authorization') || undefined);
      await next();
    };
  }

  /** Require a valid token carrying one of the roles. */
  requireRole(...roles: Role[]): Middleware {
    return async (ctx, next) => {
      const principal: Principal = await this.authenticate(ctx.get('authorization') || undefined);
      ctx.state.principal = principal;
      if (!principal.roles.some((r) => roles.includes(r))) {
        throw new ForbiddenError(`requires role ${roles.join(' or ')}`);
      }
      await next();
    };
  }
}
