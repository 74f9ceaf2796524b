import { Router } from '@koa/router';
import type { Authenticator } from '../../../platform/auth/authenticator.ts';
import type { HttpState } from '../../../platform/http/app.ts';
import { parseQuery } from '../../../platform/http/validate.ts';
import type { NotificationService } from './notification-service.ts';
import { listNotificationsQuery } from './schemas.ts';

export function createNotificationRoutes(deps: { service: NotificationService; authenticator: Authenticator }): Router[] {
  const api = new Router<HttpState>({ prefix: '/api/v1/notifications' });
  /** The caller's own notifications, newest first ({items, total, limit, offset}). */
  api.get('/', deps.authenticator.required(), async (ctx) => {
    const page = parseQuery(ctx, listNotificationsQuery);
    ctx.set('Cache-Control', 'private, no-store');
    ctx.body = await deps.service.listFor(ctx.state.principal!, page);
  });
  return [api];
}
