import { Router } from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { NotFoundError } from '../../platform/errors.ts';
import { parseParams, parseQuery } from '../../platform/http/validate.ts';
import type { FindingKind } from '../reconciliation/engine.ts';
import { PAGE_BASE } from './dashboard-layout.ts';
import { findingsQuery, runIdParams } from './dashboard-queries.ts';
import type { MigrationDashboardService } from './dashboard-service.ts';
import { renderOverview } from './overview-page.ts';
import { renderRunPage } from './run-page.ts';

const HISTORY_DAYS = 14;
/** the chart's points: enough for a scheduled run every 15 minutes per aggregate for days, bounded */
const HISTORY_POINTS = 1000;
const RUNS_PER_PAGE = 20;

const overviewQuery = z.object({ before: runIdParams.shape.id.optional() });

function page(ctx: Context, body: string): void {
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body;
}

/** GET /admin/migration and /admin/migration/runs/:id: server-rendered, no script (ADR 0052). */
export function migrationPages(service: MigrationDashboardService): Middleware {
  const router = new Router();
  router.get(PAGE_BASE, async (ctx) => {
    const { before } = parseQuery(ctx, overviewQuery);
    const [modules, history, runs, log] = await Promise.all([
      service.modules(),
      service.history({ days: HISTORY_DAYS, limit: HISTORY_POINTS }),
      service.runs({ limit: RUNS_PER_PAGE, before }),
      service.log({ limit: 50 }),
    ]);
    page(ctx, renderOverview({ flagSource: service.flagSource, modules, history, historyDays: HISTORY_DAYS, runs, log }));
  });
  router.get(`${PAGE_BASE}/runs/:id`, async (ctx) => {
    const { id } = parseParams(ctx, runIdParams);
    const q = parseQuery(ctx, findingsQuery);
    const kind = q.kind as FindingKind | undefined;
    const found = await service.run(id, { ...q, kind });
    if (!found) throw new NotFoundError(`no reconciliation run ${id}`, 'reconciliation-run-not-found');
    page(ctx, renderRunPage({ ...found, kind, limit: q.limit }));
  });
  return router.routes() as unknown as Middleware;
}
