import type { Middleware } from 'koa';
import { ADMIN_PAGE_CSP } from '../../platform/http/admin-session.ts';
import { API_BASE, migrationApi } from './dashboard-api.ts';
import { PAGE_BASE } from './dashboard-layout.ts';
import { migrationPages } from './dashboard-pages.ts';
import type { MigrationDashboardService } from './dashboard-service.ts';

export interface MigrationDashboardMountOptions {
  service: MigrationDashboardService;
  /** who may see it (the admin session's requireAdmin): runs before anything else under both paths */
  guard: Middleware;
}

const within = (path: string, base: string) => path === base || path.startsWith(`${base}/`);

/**
 * The migration dashboard at /admin/migration and its JSON API at /api/v1/admin/migration, both behind
 * the admin guard (ADR 0042: session cookie on the pages, Bearer on the API). Pages get the admin CSP.
 */
export function migrationDashboardMount(options: MigrationDashboardMountOptions): Middleware {
  const api = migrationApi(options.service);
  const pages = migrationPages(options.service);
  const page: Middleware = (ctx, next) =>
    options.guard(ctx, async () => {
      ctx.set('Content-Security-Policy', ADMIN_PAGE_CSP);
      ctx.set('Referrer-Policy', 'same-origin');
      await pages(ctx, next);
    });
  // every API request passes through here: not an async function, so passing by costs no promise of its own
  return (ctx, next) => {
    if (within(ctx.path, API_BASE)) return options.guard(ctx, () => api(ctx, next));
    return within(ctx.path, PAGE_BASE) ? page(ctx, next) : next();
  };
}
