import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { KoaAdapter } from '@bull-board/koa';
import type { Queue } from 'bullmq';
import type { Middleware } from 'koa';
import { ADMIN_PAGE_CSP } from '../http/admin-session.ts';

export interface BullBoardOptions {
  /** e.g. `/admin/queues` */
  basePath: string;
  queues: Queue[];
  /** who may see it (the admin session's requireAdmin); runs before anything of bull-board's */
  guard: Middleware;
  title?: string;
}

/**
 * bull-board (UI and its JSON API) at `basePath`, behind `guard`. Every request under the path — the
 * page, its static assets and its API calls — passes the guard first, and gets the admin CSP instead of
 * the app's strict default (the dashboard's bundle needs inline styles).
 */
export function bullBoardMount(options: BullBoardOptions): Middleware {
  const { basePath } = options;
  const adapter = new KoaAdapter();
  adapter.setBasePath(basePath);
  createBullBoard({
    queues: options.queues.map((q) => new BullMQAdapter(q)),
    // @bull-board/koa pins its own copy of @bull-board/api's types (one patch version behind): same shape
    serverAdapter: adapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: options.title ?? 'Boxoffice jobs' } },
  });
  const board = adapter.registerPlugin() as unknown as Middleware;
  const within = (path: string) => path === basePath || path.startsWith(`${basePath}/`);
  const guarded: Middleware = (ctx, next) =>
    options.guard(ctx, async () => {
      ctx.set('Content-Security-Policy', ADMIN_PAGE_CSP);
      ctx.set('Referrer-Policy', 'same-origin');
      await board(ctx, next);
    });
  // every API request passes through here: not an async function, so passing by costs no promise of its own
  return (ctx, next) => (within(ctx.path) ? guarded(ctx, next) : next());
}
