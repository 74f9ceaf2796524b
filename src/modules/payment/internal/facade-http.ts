import { Router } from '@koa/router';
import { z } from 'zod';
import type { HttpState } from '../../../platform/http/app.ts';
import type { InternalClient } from '../../../platform/http/internal-client.ts';
import { PaymentNotFoundError } from './errors.ts';
import type { PaymentView } from './views.ts';

/** payment's one facade read (PaymentFacade in index.ts) */
interface PaymentReads {
  getPayment(paymentId: string): Promise<PaymentView | undefined>;
}

/**
 * Payment's facade over HTTP, both ends: the internal route a split-out payment serves (behind the
 * service credential) and the adapter a process without payment uses (SERVICE_URL_PAYMENT). The wire
 * shape is the PaymentView itself, checked on arrival.
 */
const wire = z.object({
  id: z.uuid(),
  status: z.enum(['pending', 'completed', 'failed', 'refunded']),
  amount: z.string().regex(/^\d+\.\d{2}$/),
  currency: z.string().length(3),
  booking_id: z.uuid(),
  payment_method: z.string().nullable(),
  failure_reason: z.string().nullable(),
  created_at: z.iso.datetime({ offset: true }),
}) satisfies z.ZodType<PaymentView>;

const PREFIX = '/internal/v1/payment/payments';

export function createPaymentInternalRoutes(facade: PaymentReads): Router<HttpState> {
  const internal = new Router<HttpState>();
  internal.get(`${PREFIX}/:id`, async (ctx) => {
    const payment = await facade.getPayment(ctx.params['id'] ?? '');
    if (!payment) throw new PaymentNotFoundError();
    ctx.body = payment;
  });
  return internal;
}

export function createRemotePaymentReads(client: InternalClient): PaymentReads {
  return {
    getPayment: (paymentId) => client.get(`${PREFIX}/${encodeURIComponent(paymentId)}`, wire),
  };
}
