import { Router } from '@koa/router';
import type { Authenticator } from '../../../platform/auth/authenticator.ts';
import type { HttpState } from '../../../platform/http/app.ts';
import { parseBody, parseParams, parseQuery } from '../../../platform/http/validate.ts';
import type { BookingService } from './booking-service.ts';
import { cancelBookingBody, createBookingBody, idParams, listBookingsQuery } from './schemas.ts';

/** /api/v1/bookings: every route needs a signed-in user; a booking is visible to its owner and admins. */
export function createBookingRoutes(deps: { service: BookingService; authenticator: Authenticator; maxSeats: number }): Router[] {
  const { service } = deps;
  const createBody = createBookingBody(deps.maxSeats);
  const api = new Router<HttpState>({ prefix: '/api/v1/bookings' });
  api.use(deps.authenticator.required());

  api.post('/', async (ctx) => {
    const booking = await service.create(ctx.state.principal!, parseBody(ctx, createBody));
    ctx.status = 201;
    ctx.set('Location', `/api/v1/bookings/${booking.id}`);
    ctx.body = booking;
  });
  api.get('/', async (ctx) => {
    ctx.body = await service.list(ctx.state.principal!, parseQuery(ctx, listBookingsQuery));
  });
  api.get('/:id', async (ctx) => {
    ctx.body = await service.get(ctx.state.principal!, parseParams(ctx, idParams).id);
  });
  api.post('/:id/cancel', async (ctx) => {
    const { id } = parseParams(ctx, idParams);
    ctx.body = await service.cancel(ctx.state.principal!, id, parseBody(ctx, cancelBookingBody).reason);
  });
  return [api];
}
