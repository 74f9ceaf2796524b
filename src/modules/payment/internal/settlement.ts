import type { Knex } from '../../../platform/db.ts';
import { buildEnvelope } from '../../../platform/events/envelope.ts';
import { appendToOutbox } from '../../../platform/events/outbox.ts';
import type { Flags } from '../../../platform/flags.ts';
import type { Logger } from '../../../platform/logger.ts';
import { PaymentBusyError } from './errors.ts';
import { paymentCompletedV1, paymentFailedV1, paymentRefundedV1 } from './events.ts';
import { chargeKey, refundKey, withDeadline, type PaymentGateway } from './gateway.ts';
import { failureStatus, type GatewayLog } from './gateway-log.ts';
import type { IdempotencyStore } from './idempotency-store.ts';
import type { LegacyBookingLink } from './legacy-booking-link.ts';
import { ACTIVE_PAYMENT_STATUSES, type PaymentRecord, type PaymentStore } from './payment-store.ts';

export const SOURCE = 'payment';

export interface SettlementDeps {
  schema: string;
  store: PaymentStore;
  /** the old coupling: confirms the shared bookings row while use_payment_events is off */
  legacyBookings: LegacyBookingLink;
  keys: IdempotencyStore;
  gateway: PaymentGateway;
  log: GatewayLog;
  flags: Flags;
  logger: Logger;
  gatewayTimeoutMs: number;
}

/**
 * A payment's state changes together with what they cause, each inside the caller's transaction:
 *  - use_payment_events on: the matching payment.* event goes to the outbox (the saga moves the booking);
 *  - off (the old behaviour): a completed payment confirms the shared bookings row itself
 *    (legacy-booking-link.ts); no events.
 */
export class Settlement {
  private readonly d: SettlementDeps;

  constructor(deps: SettlementDeps) {
    this.d = deps;
  }

  eventsOn(userId: string): boolean {
    return this.d.flags.isEnabled('use_payment_events', { userId });
  }

  /** pending → completed. `legacyMissed`: on the legacy path, the booking row was no longer pending. */
  async complete(
    trx: Knex.Transaction,
    p: PaymentRecord,
    charge: { reference: string; cardLastFour: string | null },
    clientKey: string | null,
  ): Promise<{ payment: PaymentRecord; legacyMissed: boolean }> {
    const done = await this.d.store.markCompleted(trx, p.id, charge.reference);
    if (!done) return { payment: (await this.d.store.findById(trx, p.id)) ?? p, legacyMissed: false };
    if (this.eventsOn(p.userId)) {
      await appendToOutbox(
        trx,
        this.d.schema,
        buildEnvelope(
          paymentCompletedV1,
          {
            payment_id: p.id,
            booking_id: p.bookingId,
            user_id: p.userId,
            amount: p.amount,
            currency: p.currency,
            payment_method: p.paymentMethod ?? 'card',
            card_last_four: charge.cardLastFour,
            transaction_id: charge.reference,
            gateway: this.d.gateway.name,
            idempotency_key: clientKey,
            completed_at: done.updatedAt.toISOString(),
          },
          { source: SOURCE, metadata: { user_id: p.userId } },
        ),
      );
      return { payment: done, legacyMissed: false };
    }
    const confirmed = await this.d.legacyBookings.confirm(trx, p.bookingId);
    if (!confirmed) this.d.logger.warn({ payment_id: p.id, booking_id: p.bookingId }, 'legacy path: the booking was no longer pending when its payment completed');
    return { payment: done, legacyMissed: !confirmed };
  }

  /** pending → failed (on the legacy path the booking stays pending until it expires, as before) */
  async fail(trx: Knex.Transaction, p: PaymentRecord, reason: string): Promise<PaymentRecord> {
    const failed = await this.d.store.markFailed(trx, p.id);
    if (!failed) return (await this.d.store.findById(trx, p.id)) ?? p;
    if (this.eventsOn(p.userId)) {
      await appendToOutbox(
        trx,
        this.d.schema,
        buildEnvelope(
          paymentFailedV1,
          { payment_id: p.id, booking_id: p.bookingId, user_id: p.userId, amount: p.amount, currency: p.currency, reason, failed_at: failed.updatedAt.toISOString() },
          { source: SOURCE, metadata: { user_id: p.userId } },
        ),
      );
    }
    return failed;
  }

  /**
   * completed → refunded: the gateway refunds under the payment's refund key (a repeated call returns the
   * first refund), then the state change and payment.refunded commit with the caller's transaction.
   * The call is logged in the same transaction: a consumer handler may not hold a second connection.
   */
  async refund(trx: Knex.Transaction, p: PaymentRecord, reason: string): Promise<PaymentRecord> {
    if (p.status !== 'completed' || !p.transactionId) return p;
    const { gateway, log } = this.d;
    const key = refundKey(p.id);
    const handle = await log.start(trx, {
      paymentId: p.id,
      type: 'refund',
      amount: p.amount,
      currency: p.currency,
      gateway: gateway.name,
      gatewayIdempotencyKey: key,
      request: { charge_reference: p.transactionId, amount: p.amount, currency: p.currency, reason },
    });
    const result = await this.call('refund', handle, trx, (signal) =>
      gateway.refund({ idempotencyKey: key, chargeReference: p.transactionId!, amount: p.amount, currency: p.currency }, signal),
    );
    await log.finish(trx, handle, 'refund', { status: 'succeeded', reference: result.reference, replayed: result.replayed });
    const refunded = await this.d.store.markRefunded(trx, p.id);
    if (!refunded) return (await this.d.store.findById(trx, p.id)) ?? p;
    if (this.eventsOn(p.userId)) {
      await appendToOutbox(
        trx,
        this.d.schema,
        buildEnvelope(
          paymentRefundedV1,
          {
            payment_id: p.id,
            booking_id: p.bookingId,
            user_id: p.userId,
            refund_amount: p.amount,
            currency: p.currency,
            reason,
            refund_reference: result.reference,
            refunded_at: refunded.updatedAt.toISOString(),
          },
          { source: SOURCE, metadata: { user_id: p.userId } },
        ),
      );
    }
    this.d.logger.info({ payment_id: p.id, booking_id: p.bookingId, reason, replayed: result.replayed }, 'payment refunded');
    return refunded;
  }

  /**
   * A pending payment whose request is not running (it timed out, or its process died): ask the gateway
   * what became of the charge — never charge — and settle it. The key row stays locked meanwhile, so no
   * request can resume and charge under our feet; one that holds the key right now makes us retry later.
   */
  async resolvePending(trx: Knex.Transaction, p: PaymentRecord, reason: string): Promise<PaymentRecord> {
    const key = await this.d.keys.lockForPayment(trx, p.id);
    if (key?.busy) throw new PaymentBusyError(`payment ${p.id} is being processed by a request; retry later`);
    const { gateway, log } = this.d;
    const handle = await log.start(trx, {
      paymentId: p.id,
      type: 'lookup',
      amount: p.amount,
      currency: p.currency,
      gateway: gateway.name,
      gatewayIdempotencyKey: chargeKey(p.id),
      request: { reason },
    });
    const found = await this.call('lookup', handle, trx, (signal) => gateway.findCharge(chargeKey(p.id), signal));
    if (found?.outcome === 'succeeded') {
      await log.finish(trx, handle, 'lookup', { status: 'succeeded', reference: found.reference, replayed: true });
      return (await this.complete(trx, p, found, key?.record.key ?? null)).payment;
    }
    const failure = found ? found.declineCode : reason;
    await log.finish(trx, handle, 'lookup', { status: found ? 'declined' : 'not_found', reference: found?.reference ?? null, error: failure });
    return this.fail(trx, p, failure);
  }

  /** booking.cancelled / booking.expired: settle the booking's open payment and refund a completed one */
  async settleBooking(trx: Knex.Transaction, bookingId: string, reason: string): Promise<PaymentRecord[]> {
    const settled: PaymentRecord[] = [];
    for (const listed of await this.d.store.findByBooking(trx, bookingId)) {
      if (!ACTIVE_PAYMENT_STATUSES.includes(listed.status)) continue;
      let p = (await this.d.store.lockById(trx, listed.id)) ?? listed;
      if (p.status === 'pending') p = await this.resolvePending(trx, p, reason);
      if (p.status === 'completed') p = await this.refund(trx, p, reason);
      settled.push(p);
    }
    return settled;
  }

  /** a gateway call under the deadline; a failure is logged (in trx) before it propagates */
  private async call<T>(
    type: 'refund' | 'lookup',
    handle: Awaited<ReturnType<GatewayLog['start']>>,
    trx: Knex.Transaction,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    try {
      return await withDeadline(this.d.gatewayTimeoutMs, fn);
    } catch (err) {
      const status = failureStatus(err);
      if (status) await this.d.log.finish(trx, handle, type, { status, error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }
}
