import type { PaymentRecord, PaymentStatus } from './payment-store.ts';

/** The HTTP representation of a payment (POST /api/v1/payments → 201, GET /api/v1/payments/:id). */
export interface PaymentView extends Record<string, unknown> {
  id: string;
  status: PaymentStatus;
  /** exact decimal string */
  amount: string;
  currency: string;
  booking_id: string;
  payment_method: string | null;
  /** the gateway's decline code, or why a pending payment was abandoned; null unless failed */
  failure_reason: string | null;
  created_at: string;
}

export function toPaymentView(p: PaymentRecord, failureReason: string | null = null): PaymentView {
  return {
    id: p.id,
    status: p.status,
    amount: p.amount,
    currency: p.currency,
    booking_id: p.bookingId,
    payment_method: p.paymentMethod,
    failure_reason: p.status === 'failed' ? failureReason : null,
    created_at: p.createdAt.toISOString(),
  };
}
