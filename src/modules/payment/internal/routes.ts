import { Router } from '@koa/router';
import type { Authenticator } from '../../../platform/auth/authenticator.ts';
import type { HttpState } from '../../../platform/http/app.ts';
import { parseBody, parseParams } from '../../../platform/http/validate.ts';
import { IDEMPOTENCY_HEADER } from './errors.ts';
import type { PaymentService } from './payment-service.ts';
import { createPaymentBody, parseIdempotencyKey, paymentIdParams } from './schemas.ts';

export function createPaymentRoutes(deps: { service: PaymentService; authenticator: Authenticator }): Router[] {
  const { service } = deps;
  const api = new Router<HttpState>({ prefix: '/api/v1/payments' });

  /**
   * Pay a pending booking of yours. Idempotency-Key is required (401 → 400 → 422 in that order: who,
   * then the key, then the body). A replay answers the stored status and body with Idempotent-Replayed.
   */
  api.post('/', deps.authenticator.required(), async (ctx) => {
    const key = parseIdempotencyKey(ctx.get(IDEMPOTENCY_HEADER) || undefined);
    const body = parseBody(ctx, createPaymentBody);
    const res = await service.create(ctx.state.principal!.userId, key, body);
    ctx.set('Cache-Control', 'no-store');
    if (res.replayed) ctx.set('Idempotent-Replayed', 'true');
    if (typeof res.body['id'] === 'string') ctx.set('Location', `/api/v1/payments/${res.body['id']}`);
    ctx.status = res.status;
    ctx.body = res.body;
  });

  api.get('/:id', deps.authenticator.required(), async (ctx) => {
    const { id } = parseParams(ctx, paymentIdParams);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await service.get(id, ctx.state.principal!);
  });

  return [api];
}
