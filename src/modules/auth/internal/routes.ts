import { Router } from '@koa/router';
import type { Context } from 'koa';
import { bearerToken, type Authenticator } from '../../../platform/auth/authenticator.ts';
import type { JsonWebKeySet } from '../../../platform/auth/jwt-verifier.ts';
import type { Flags } from '../../../platform/flags.ts';
import type { HttpState } from '../../../platform/http/app.ts';
import { sendJsonWithEtag } from '../../../platform/http/etag.ts';
import { parseBody } from '../../../platform/http/validate.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { Metrics } from '../../../platform/metrics.ts';
import type { AuthService, RequestMeta } from './auth-service.ts';
import { loginBody, refreshBody, registerBody } from './schemas.ts';

export interface AuthRoutesDeps {
  service: AuthService;
  authenticator: Authenticator;
  flags: Flags;
  logger: Logger;
  metrics: Metrics;
  jwks: () => JsonWebKeySet;
  jwksCacheSeconds: number;
}

const meta = (ctx: Context): RequestMeta => ({ ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });

export function createAuthRoutes(deps: AuthRoutesDeps): Router[] {
  const { service } = deps;
  const verifyCalls = deps.metrics.counter(
    'auth_verify_endpoint_calls_total',
    'Calls to the deprecated synchronous GET /api/v1/auth/verify',
    ['result'],
  );
  const api = new Router<HttpState>({ prefix: '/api/v1/auth' });

  api.post('/register', async (ctx) => {
    const body = parseBody(ctx, registerBody);
    ctx.status = 201;
    ctx.body = await service.register(body, meta(ctx));
  });

  api.post('/login', async (ctx) => {
    const body = parseBody(ctx, loginBody);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await service.login(body, meta(ctx));
  });

  api.post('/refresh', async (ctx) => {
    const body = parseBody(ctx, refreshBody);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await service.refresh(body.refresh_token, meta(ctx));
  });

  api.post('/logout', async (ctx) => {
    const body = parseBody(ctx, refreshBody);
    await service.logout(body.refresh_token, meta(ctx));
    ctx.status = 204;
  });

  api.get('/me', deps.authenticator.required(), async (ctx) => {
    ctx.body = await service.me(ctx.state.principal!);
  });

  /** The old synchronous check other services called on every request. Kept until nobody calls it. */
  api.get('/verify', async (ctx) => {
    const deprecated = deps.flags.isEnabled('disable_verify_endpoint');
    if (deprecated) {
      ctx.set('Deprecation', 'true');
      ctx.set('Link', '</.well-known/jwks.json>; rel="alternate"');
      deps.logger.warn(
        { caller_ip: ctx.ip, user_agent: ctx.get('user-agent') || null },
        'deprecated /api/v1/auth/verify endpoint called; validate tokens locally with the JWKS',
      );
    }
    try {
      const principal = await service.verifyToken(bearerToken(ctx.get('authorization') || undefined));
      verifyCalls.inc({ result: 'valid' });
      ctx.body = {
        valid: true,
        user_id: principal.userId,
        email: principal.email,
        role: principal.roles[0] ?? 'user',
        roles: principal.roles,
        exp: principal.expiresAt,
      };
    } catch (err) {
      verifyCalls.inc({ result: 'invalid' });
      throw err;
    }
  });

  const wellKnown = new Router<HttpState>();
  wellKnown.get('/.well-known/jwks.json', (ctx) => {
    ctx.set('Cache-Control', `public, max-age=${deps.jwksCacheSeconds}, must-revalidate`);
    sendJsonWithEtag(ctx, deps.jwks());
  });

  return [api, wellKnown];
}
