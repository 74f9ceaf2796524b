import { BadRequestError, ConflictError, DomainError, NotFoundError } from '../../../platform/errors.ts';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

export class IdempotencyKeyRequiredError extends DomainError {
  constructor() {
    super(400, 'idempotency-key-required', 'Idempotency key required', {
      detail: `the ${IDEMPOTENCY_HEADER} header is required: send a unique value (e.g. a UUID) and reuse it when you retry`,
      extra: { header: IDEMPOTENCY_HEADER },
    });
  }
}

export class InvalidIdempotencyKeyError extends BadRequestError {
  constructor() {
    super(`the ${IDEMPOTENCY_HEADER} header must be 1 to 255 visible ASCII characters`, 'invalid-idempotency-key');
    Object.assign(this.extra, { header: IDEMPOTENCY_HEADER });
  }
}

/** Same key, different request: a client bug, never served the other request's response. */
export class IdempotencyKeyReusedError extends DomainError {
  constructor() {
    super(422, 'idempotency-key-reused', 'Idempotency key reused', {
      detail: `this ${IDEMPOTENCY_HEADER} was used with a different request; use a new key for a new request`,
      extra: { header: IDEMPOTENCY_HEADER },
    });
  }
}

export class IdempotencyKeyInProgressError extends ConflictError {
  constructor(retryAfterSeconds: number) {
    super(`a request with this ${IDEMPOTENCY_HEADER} is in progress; retry it later`, 'idempotency-key-in-progress', {
      header: IDEMPOTENCY_HEADER,
      retry_after: retryAfterSeconds,
    });
    Object.assign(this.headers, { 'Retry-After': String(retryAfterSeconds) });
  }
}

export class BookingNotFoundError extends NotFoundError {
  constructor() {
    super('no such booking of yours', 'booking-not-found');
  }
}

export class BookingNotPayableError extends ConflictError {
  constructor(status: string) {
    super(`the booking is ${status}; only a pending booking can be paid`, 'booking-not-payable', { booking_status: status });
  }
}

export class PaymentExistsError extends ConflictError {
  constructor(paymentId: string, status: string) {
    super(`the booking already has a ${status} payment`, 'payment-exists', { payment_id: paymentId, payment_status: status });
  }
}

export class PaymentNotFoundError extends NotFoundError {
  constructor() {
    super('no such payment of yours', 'payment-not-found');
  }
}

/** The gateway did not answer in time: nothing is known about the charge, and retrying with the key is safe. */
export class PaymentGatewayTimeoutError extends DomainError {
  constructor(paymentId: string) {
    super(504, 'gateway-timeout', 'Gateway timeout', {
      detail: `the payment gateway did not answer in time; the payment is pending — retry with the same ${IDEMPOTENCY_HEADER}`,
      extra: { payment_id: paymentId, retryable: true },
      headers: { 'Retry-After': '1' },
    });
  }
}

export class PaymentGatewayUnavailableError extends DomainError {
  constructor(paymentId: string, reason: string) {
    super(503, 'gateway-unavailable', 'Gateway unavailable', {
      detail: `the payment gateway could not be reached (${reason}); retry with the same ${IDEMPOTENCY_HEADER}`,
      extra: { payment_id: paymentId, retryable: true },
      headers: { 'Retry-After': '1' },
    });
  }
}

/** A consumer handler met a payment a request is working on right now: the consumer retries later. */
export class PaymentBusyError extends Error {
  override readonly name = 'PaymentBusyError';
}
