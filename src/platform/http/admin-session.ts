import { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Authenticator } from '../auth/authenticator.ts';
import type { Principal } from '../auth/principal.ts';
import { DomainError, ForbiddenError, UnauthorizedError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { renderLoginPage } from './admin-login-page.ts';
import { safeParseBody } from './validate.ts';

/**
 * The Content-Security-Policy of admin pages (login, bull-board, the migration dashboard): same-origin
 * scripts only, inline styles allowed (the dashboards' bundles set style attributes), no third-party
 * origins, never framed.
 */
export const ADMIN_PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Exchanges credentials for an access token (the auth facade's login, in-process or remote). */
export type AdminLogin = (
  credentials: { email: string; password: string },
  meta: { ip: string; userAgent?: string | undefined },
) => Promise<{ accessToken: string; expiresIn: number }>;

export interface AdminSessionOptions {
  authenticator: Pick<Authenticator, 'authenticate'>;
  login: AdminLogin;
  logger: Logger;
  /** where admin pages live; the cookie is scoped to it */
  basePath?: string;
  /** where a successful login goes when the login link named no page */
  home?: string;
  cookieName?: string;
}

const loginForm = z.object({
  email: z.string().trim().min(1, 'is required').max(254),
  password: z.string().min(1, 'is required').max(1024),
  next: z.string().max(2048).optional(),
});

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * How an admin reaches admin pages from a browser, which cannot send a Bearer header on navigation:
 * `/admin/login` posts credentials through the auth login (same throttling and audit as the API), and a
 * successful admin login sets an HttpOnly, SameSite=Strict cookie (Secure when the request came over TLS)
 * holding the access token, scoped to `/admin` and living as long as the token. `requireAdmin()` accepts
 * that cookie or `Authorization: Bearer`: 401/403 as problem+json for API clients, a redirect to the login
 * page for a browser that asks for HTML. Cookie-authenticated state changes must come from this origin.
 */
export class AdminSession {
  private readonly o: AdminSessionOptions;
  readonly basePath: string;
  readonly loginPath: string;
  readonly cookieName: string;

  constructor(options: AdminSessionOptions) {
    this.o = options;
    this.basePath = options.basePath ?? '/admin';
    this.loginPath = `${this.basePath}/login`;
    this.cookieName = options.cookieName ?? 'bo_admin_session';
  }

  /** Paths that accept an HTML form post (application/x-www-form-urlencoded) instead of JSON. */
  get formPaths(): string[] {
    return [this.loginPath, `${this.basePath}/logout`];
  }

  /** Require an admin: Bearer header or the session cookie. */
  requireAdmin(): Middleware {
    return async (ctx, next) => {
      const header = ctx.get('authorization');
      const cookie = header ? undefined : ctx.cookies.get(this.cookieName);
      let principal: Principal;
      try {
        if (header) principal = await this.o.authenticator.authenticate(header);
        else if (cookie) principal = await this.o.authenticator.authenticate(`Bearer ${cookie}`);
        else throw new UnauthorizedError(`admin pages need an admin session (log in at ${this.loginPath}) or an Authorization: Bearer token`);
      } catch (err) {
        if (err instanceof UnauthorizedError && this.wantsPage(ctx)) {
          if (cookie) this.clearCookie(ctx);
          ctx.redirect(`${this.loginPath}?next=${encodeURIComponent(ctx.originalUrl)}`);
          return;
        }
        throw err;
      }
      if (!principal.roles.includes('admin')) throw new ForbiddenError('requires role admin');
      if (cookie && UNSAFE.has(ctx.method) && !sameOrigin(ctx)) throw new ForbiddenError('cross-site request refused');
      ctx.state.principal = principal;
      ctx.set('Cache-Control', 'no-store');
      await next();
    };
  }

  /** GET/POST /admin/login and POST /admin/logout, as one middleware. */
  pages(): Middleware {
    return this.router().routes() as unknown as Middleware;
  }

  private router(): Router {
    const router = new Router();
    router.get(this.loginPath, (ctx) => {
      this.page(ctx, 200, { next: safeNext(ctx.query['next'], this.basePath) });
    });
    router.post(this.loginPath, async (ctx) => {
      if (!sameOrigin(ctx)) throw new ForbiddenError('cross-site login refused');
      const parsed = safeParseBody(ctx, loginForm);
      const next = safeNext(parsed.success ? parsed.data.next : undefined, this.basePath) ?? this.o.home ?? this.basePath;
      if (!parsed.success) {
        const fields = parsed.error.issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`).join('; ');
        return this.page(ctx, 422, { next, error: `Enter your email and password (${fields}).` });
      }
      const { email, password } = parsed.data;
      let token: { accessToken: string; expiresIn: number };
      let principal: Principal;
      try {
        token = await this.o.login({ email, password }, { ip: ctx.ip, userAgent: ctx.get('user-agent') || undefined });
        principal = await this.o.authenticator.authenticate(`Bearer ${token.accessToken}`);
      } catch (err) {
        if (!(err instanceof DomainError) || err.status >= 500) throw err;
        for (const [k, v] of Object.entries(err.headers)) if (k.toLowerCase() === 'retry-after') ctx.set(k, v);
        const message = err.status === 429 ? 'Too many attempts. Try again later.' : 'Email or password is incorrect.';
        return this.page(ctx, err.status === 429 ? 429 : 401, { next, email, error: message });
      }
      if (!principal.roles.includes('admin')) {
        this.o.logger.warn({ userId: principal.userId }, 'admin login refused: not an admin');
        return this.page(ctx, 403, { next, email, error: 'This account is not an administrator.' });
      }
      ctx.cookies.set(this.cookieName, token.accessToken, {
        httpOnly: true,
        sameSite: 'strict',
        secure: ctx.secure,
        path: this.basePath,
        maxAge: token.expiresIn * 1000,
        overwrite: true,
      });
      this.o.logger.info({ userId: principal.userId }, 'admin session started');
      ctx.status = 303;
      ctx.redirect(next);
    });
    router.post(`${this.basePath}/logout`, (ctx) => {
      if (!sameOrigin(ctx)) throw new ForbiddenError('cross-site logout refused');
      this.clearCookie(ctx);
      ctx.status = 303;
      ctx.redirect(this.loginPath);
    });
    return router;
  }

  private page(ctx: Context, status: number, view: { next?: string | undefined; email?: string; error?: string }): void {
    ctx.status = status;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Content-Security-Policy', ADMIN_PAGE_CSP);
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = renderLoginPage({ action: this.loginPath, ...view });
  }

  private clearCookie(ctx: Context): void {
    ctx.cookies.set(this.cookieName, '', { httpOnly: true, sameSite: 'strict', secure: ctx.secure, path: this.basePath, maxAge: 0, overwrite: true });
  }

  /** A browser navigating (it prefers HTML over JSON), not an API client or the dashboard's own fetches. */
  private wantsPage(ctx: Context): boolean {
    return (ctx.method === 'GET' || ctx.method === 'HEAD') && ctx.accepts('json', 'html') === 'html';
  }
}

/** Only pages of this app under the admin base path: never an absolute or protocol-relative URL. */
function safeNext(raw: unknown, basePath: string): string | undefined {
  if (typeof raw !== 'string') return undefined;
  if (!raw.startsWith(`${basePath}/`) && raw !== basePath) return undefined;
  if (raw.startsWith('//') || /[\\\s]/.test(raw) || raw.startsWith(`${basePath}/login`)) return undefined;
  return raw;
}

/**
 * The browser says the request comes from this origin. Sec-Fetch-Site (set by the browser, not by page
 * scripts) decides where present; otherwise the Origin header must be ours; non-browser clients send
 * neither and are let through (they carry no ambient cookie of a victim).
 */
function sameOrigin(ctx: Context): boolean {
  const site = ctx.get('sec-fetch-site');
  if (site) return site === 'same-origin' || site === 'none';
  const origin = ctx.get('origin');
  // this app's own origin (Koa 3's ctx.origin is the Origin request header, so it is built here)
  return !origin || origin === `${ctx.protocol}://${ctx.host}`;
}

export function createAdminSession(options: AdminSessionOptions): AdminSession {
  return new AdminSession(options);
}
