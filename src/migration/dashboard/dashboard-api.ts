import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import { NotFoundError } from '../../platform/errors.ts';
import { parseParams, parseQuery } from '../../platform/http/validate.ts';
import type { FindingKind } from '../reconciliation/engine.ts';
import type { MigrationDashboardService } from './dashboard-service.ts';
import { findingsQuery, logQuery, runIdParams, runsQuery } from './dashboard-queries.ts';

export const API_BASE = '/api/v1/admin/migration';

/**
 * The dashboard's data as JSON, for scripts and runbooks (ADR 0052). Every route is behind the admin
 * guard the mount puts in front of it; bad parameters are 422 naming the field, an unknown run 404.
 */
export function migrationApi(service: MigrationDashboardService): Middleware {
  const router = new Router({ prefix: API_BASE });
  router.get('/modules', async (ctx) => {
    ctx.body = { flag_source: service.flagSource, modules: await service.modules() };
  });
  router.get('/runs', async (ctx) => {
    const q = parseQuery(ctx, runsQuery);
    const page = await service.runs(q);
    ctx.body = { items: page.items, next_before: page.nextBefore };
  });
  router.get('/runs/:id', async (ctx) => {
    const { id } = parseParams(ctx, runIdParams);
    const q = parseQuery(ctx, findingsQuery);
    const found = await service.run(id, { ...q, kind: q.kind as FindingKind | undefined });
    if (!found) throw new NotFoundError(`no reconciliation run ${id}`, 'reconciliation-run-not-found');
    const { items, total, nextAfter } = found.findings;
    ctx.body = { run: found.run, findings: { items, total, next_after: nextAfter } };
  });
  router.get('/log', async (ctx) => {
    ctx.body = { items: await service.log(parseQuery(ctx, logQuery)) };
  });
  return router.routes() as unknown as Middleware;
}
