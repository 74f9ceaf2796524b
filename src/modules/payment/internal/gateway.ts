/**
 * The payment gateway port (ADR 0032). Small on purpose: a real adapter (Stripe, a local acquirer) needs
 * charge, refund and "what happened to the charge I sent with this key" — and every call carries an
 * idempotency key the gateway itself honours, which is what makes resuming an interrupted payment safe.
 */

export interface ChargeRequest {
  /** the gateway-side idempotency key: the same key never charges twice */
  idempotencyKey: string;
  /** exact decimal string */
  amount: string;
  currency: string;
  /** the card token from the client (never a card number) */
  token: string;
  description: string;
}

export type ChargeResult =
  | { outcome: 'succeeded'; reference: string; cardLastFour: string | null; replayed: boolean }
  | { outcome: 'declined'; reference: string; declineCode: string; cardLastFour: string | null; replayed: boolean };

export interface RefundRequest {
  idempotencyKey: string;
  /** the reference of the charge being refunded */
  chargeReference: string;
  amount: string;
  currency: string;
}

export interface RefundResult {
  outcome: 'succeeded';
  reference: string;
  replayed: boolean;
}

export interface PaymentGateway {
  /** e.g. `fake`, `stripe` (goes into payment.completed's `gateway`) */
  readonly name: string;
  /** Throws GatewayTimeoutError (outcome unknown), GatewayUnavailableError, GatewayRejectedError. */
  charge(request: ChargeRequest, signal: AbortSignal): Promise<ChargeResult>;
  refund(request: RefundRequest, signal: AbortSignal): Promise<RefundResult>;
  /** the charge made with this idempotency key, if any — a read, it never charges */
  findCharge(idempotencyKey: string, signal: AbortSignal): Promise<ChargeResult | undefined>;
}

/** No answer in time: the gateway may or may not have acted on the request. */
export class GatewayTimeoutError extends Error {
  override readonly name = 'GatewayTimeoutError';
}

/** The request could not be delivered (connection refused, 5xx): retrying with the same key is safe. */
export class GatewayUnavailableError extends Error {
  override readonly name = 'GatewayUnavailableError';
}

/** The gateway refused the request itself (bad parameters, key reused with other parameters). */
export class GatewayRejectedError extends Error {
  override readonly name = 'GatewayRejectedError';
}

/** The gateway key of a payment's charge and of its refund: stable across retries and processes. */
export const chargeKey = (paymentId: string): string => `payment:${paymentId}:charge`;
export const refundKey = (paymentId: string): string => `payment:${paymentId}:refund`;

/**
 * Run a gateway call under a deadline. The adapter gets the signal (to abort its I/O); if it ignores it,
 * the race still ends the wait at the deadline.
 */
export async function withDeadline<T>(timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new GatewayTimeoutError(`no answer from the payment gateway within ${timeoutMs} ms`);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    return await Promise.race([call(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
