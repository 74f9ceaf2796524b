import { randomUUID } from 'node:crypto';
import type { Principal } from '../../../platform/auth/principal.ts';
import type { Knex } from '../../../platform/db.ts';
import { DomainError } from '../../../platform/errors.ts';
import { buildEnvelope } from '../../../platform/events/envelope.ts';
import { appendToOutbox } from '../../../platform/events/outbox.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { Metrics } from '../../../platform/metrics.ts';
import type { BookingSource } from './booking-source.ts';
import { IdempotencyKeyReusedError, PaymentGatewayTimeoutError, PaymentGatewayUnavailableError, PaymentNotFoundError } from './errors.ts';
import { paymentInitiatedV1 } from './events.ts';
import { chargeKey, GatewayRejectedError, GatewayTimeoutError, withDeadline, type ChargeResult, type PaymentGateway } from './gateway.ts';
import { failureStatus, redactToken, type GatewayCallHandle, type GatewayLog } from './gateway-log.ts';
import type { IdempotencyCache } from './idempotency-cache.ts';
import type { IdempotencyKeyRecord, IdempotencyStore } from './idempotency-store.ts';
import type { PaymentRecord, PaymentStore } from './payment-store.ts';
import { requestFingerprint, type CreatePaymentBody } from './schemas.ts';
import { SOURCE, type Settlement } from './settlement.ts';
import { toPaymentView, type PaymentView } from './views.ts';

export const PAYMENTS_PATH = '/api/v1/payments';

export interface PaymentServiceDeps {
  db: Knex;
  schema: string;
  store: PaymentStore;
  keys: IdempotencyStore;
  cache: IdempotencyCache;
  bookings: BookingSource;
  gateway: PaymentGateway;
  log: GatewayLog;
  settlement: Settlement;
  logger: Logger;
  metrics: Metrics;
  gatewayTimeoutMs: number;
}

export interface IdempotentResponse {
  status: number;
  body: Record<string, unknown>;
  /** answered from a stored response (no work done) */
  replayed: boolean;
}

/**
 * POST /api/v1/payments as Stripe-like idempotent atomic phases (ADR 0031):
 *   1. begin        tx: claim the key (or replay / 409 / 422 / resume)               → started
 *   2. create       read the booking, then tx: insert the pending payment, payment.initiated → payment_created
 *   3. charge       the gateway call under the payment's own gateway key (no transaction open)
 *   4. finish       tx: log the call, settle the payment (+ event or legacy booking update),
 *                       store the response                                              → finished
 * A request resumes at its key's recovery point, so a retry after a crash repeats phase 3 under the same
 * gateway key — the gateway answers with the charge it already made, never a second one.
 */
export class PaymentService {
  private readonly d: PaymentServiceDeps;
  private readonly outcomes;
  private readonly orphans;

  constructor(deps: PaymentServiceDeps) {
    this.d = deps;
    this.outcomes = deps.metrics.counter('payment_idempotency_requests_total', 'POST /payments by idempotency outcome', ['result']);
    this.orphans = deps.metrics.counter('payment_orphan_charges_total', 'Charges that succeeded for a payment already settled otherwise (reconcile)', []);
  }

  async create(userId: string, key: string, body: CreatePaymentBody): Promise<IdempotentResponse> {
    const fingerprint = requestFingerprint('POST', PAYMENTS_PATH, body);
    const cached = await this.d.cache.get(userId, key);
    if (cached) {
      if (cached.fingerprint !== fingerprint) throw this.count('reused', new IdempotencyKeyReusedError());
      this.outcomes.inc({ result: 'replayed_cache' });
      return { status: cached.code, body: cached.body, replayed: true };
    }
    let begun;
    try {
      begun = await this.d.keys.begin(this.d.db, { userId, key, method: 'POST', path: PAYMENTS_PATH, params: body, fingerprint });
    } catch (err) {
      if (err instanceof DomainError) this.outcomes.inc({ result: err.status === 409 ? 'in_progress' : 'reused' });
      throw err;
    }
    this.outcomes.inc({ result: begun.kind === 'replay' ? 'replayed_db' : begun.kind });
    if (begun.kind === 'replay') {
      const { record } = begun;
      await this.remember(record, record.responseCode!, record.responseBody!);
      return { status: record.responseCode!, body: record.responseBody!, replayed: true };
    }
    let record = begun.record;
    if (record.recoveryPoint === 'started') record = await this.createPayment(record, body);
    return this.chargeAndFinish(record, body);
  }

  async get(paymentId: string, principal: Principal): Promise<PaymentView> {
    const p = await this.d.store.findById(this.d.db, paymentId);
    if (!p || (p.userId !== principal.userId && !principal.roles.includes('admin'))) throw new PaymentNotFoundError();
    return toPaymentView(p, await this.d.log.failureReason(this.d.db, p.id));
  }

  /** Phase 2. A refusal here (404, 409) changed nothing: the key is forgotten, not answered forever. */
  private async createPayment(record: IdempotencyKeyRecord, body: CreatePaymentBody): Promise<IdempotencyKeyRecord> {
    const { db, keys, store, bookings, settlement } = this.d;
    try {
      // before the transaction: the read may wait for a booking snapshot still on its way
      const booking = await bookings.payable(db, body.booking_id, record.userId);
      const payment = await db.transaction(async (trx) => {
        const p = await store.insertPending(trx, {
          id: randomUUID(),
          bookingId: booking.bookingId,
          userId: record.userId,
          amount: booking.totalPrice,
          currency: booking.currency,
          paymentMethod: body.payment_method.type,
          idempotencyKey: record.id,
        });
        if (settlement.eventsOn(p.userId)) {
          await appendToOutbox(
            trx,
            this.d.schema,
            buildEnvelope(
              paymentInitiatedV1,
              { payment_id: p.id, booking_id: p.bookingId, user_id: p.userId, amount: p.amount, currency: p.currency, method: body.payment_method.type, initiated_at: p.createdAt.toISOString() },
              { source: SOURCE, metadata: { user_id: p.userId } },
            ),
          );
        }
        await keys.advance(trx, record.id, 'payment_created', { paymentId: p.id });
        this.d.logger.info({ payment_id: p.id, booking_id: p.bookingId, amount: p.amount, amount_source: booking.source }, 'payment created');
        return p;
      });
      return { ...record, recoveryPoint: 'payment_created', paymentId: payment.id };
    } catch (err) {
      await (err instanceof DomainError ? keys.remove(db, record.id) : keys.unlock(db, record.id)).catch((e: unknown) =>
        this.d.logger.warn({ err: e }, 'could not release the idempotency key'),
      );
      throw err;
    }
  }

  /** Phases 3 and 4. */
  private async chargeAndFinish(record: IdempotencyKeyRecord, body: CreatePaymentBody): Promise<IdempotentResponse> {
    const { db, store, gateway, log, keys } = this.d;
    const payment = record.paymentId ? await store.findById(db, record.paymentId) : undefined;
    if (!payment) throw new Error(`idempotency key ${record.id} is at ${record.recoveryPoint} without its payment`);
    // settled meanwhile (e.g. booking.expired resolved the abandoned payment): answer with what it is now
    if (payment.status !== 'pending') return this.finish(record, payment, undefined, undefined);

    const gatewayKey = chargeKey(payment.id);
    const handle = await log.start(db, {
      paymentId: payment.id,
      type: 'charge',
      amount: payment.amount,
      currency: payment.currency,
      gateway: gateway.name,
      gatewayIdempotencyKey: gatewayKey,
      request: { amount: payment.amount, currency: payment.currency, token: redactToken(body.payment_method.token), booking_id: payment.bookingId },
    });
    let result: ChargeResult;
    try {
      result = await withDeadline(this.d.gatewayTimeoutMs, (signal) =>
        gateway.charge(
          { idempotencyKey: gatewayKey, amount: payment.amount, currency: payment.currency, token: body.payment_method.token, description: `booking ${payment.bookingId}` },
          signal,
        ),
      );
    } catch (err) {
      const status = failureStatus(err);
      // anything else (a bug, the database, a crash): leave the key locked as a dead process would;
      // the next request after the lock timeout resumes here and repeats the call under the same key
      if (!status) throw err;
      const message = err instanceof Error ? err.message : String(err);
      await log.finish(db, handle, 'charge', { status, error: message });
      if (err instanceof GatewayRejectedError) {
        return this.finish(record, payment, handle, undefined, `gateway_rejected: ${message}`, true);
      }
      // outcome unknown: the payment stays pending, the key is free at once — retrying is safe
      await keys.unlock(db, record.id);
      this.d.logger.warn({ payment_id: payment.id, err: message }, 'gateway call failed; the payment stays pending and recoverable');
      throw err instanceof GatewayTimeoutError ? new PaymentGatewayTimeoutError(payment.id) : new PaymentGatewayUnavailableError(payment.id, message);
    }
    return this.finish(record, payment, handle, result);
  }

  /** Phase 4: one transaction settles the payment and stores the response. */
  private async finish(
    record: IdempotencyKeyRecord,
    payment: PaymentRecord,
    handle: GatewayCallHandle | undefined,
    result: ChargeResult | undefined,
    rejection?: string,
    logged = false,
  ): Promise<IdempotentResponse> {
    const { db, store, log, keys, settlement } = this.d;
    const outcome = await db.transaction(async (trx) => {
      if (handle && result && !logged) {
        await log.finish(trx, handle, 'charge', {
          status: result.outcome,
          reference: result.reference,
          replayed: result.replayed,
          error: result.outcome === 'declined' ? result.declineCode : null,
        });
      }
      const locked = (await store.lockById(trx, payment.id)) ?? payment;
      let final = locked;
      let legacyMissed = false;
      if (locked.status === 'pending' && result?.outcome === 'succeeded') {
        ({ payment: final, legacyMissed } = await settlement.complete(trx, locked, result, record.key));
      } else if (locked.status === 'pending' && (result || rejection)) {
        final = await settlement.fail(trx, locked, result?.outcome === 'declined' ? result.declineCode : rejection!);
      } else if (result?.outcome === 'succeeded' && locked.transactionId !== result.reference) {
        this.orphans.inc();
        this.d.logger.error({ payment_id: locked.id, status: locked.status, reference: result.reference }, 'a charge succeeded for a payment settled otherwise; reconcile and refund');
      }
      const view = toPaymentView(final, await log.failureReason(trx, final.id));
      await keys.finish(trx, record.id, 201, view);
      return { final, view, legacyMissed };
    });
    const view = outcome.legacyMissed ? await this.refundUnconfirmed(record, outcome.final, outcome.view) : outcome.view;
    await this.remember(record, 201, view);
    return { status: 201, body: view, replayed: false };
  }

  /**
   * Legacy path: the booking stopped being pending while we charged (the sweeper expired it) — give the
   * money back at once, and let the stored response say so. A failed refund is logged for reconciliation
   * (and retried by booking.expired/cancelled where payment consumes booking events).
   */
  private async refundUnconfirmed(record: IdempotencyKeyRecord, p: PaymentRecord, view: PaymentView): Promise<PaymentView> {
    try {
      return await this.d.db.transaction(async (trx) => {
        const locked = await this.d.store.lockById(trx, p.id);
        if (locked?.status !== 'completed') return view;
        const refunded = toPaymentView(await this.d.settlement.refund(trx, locked, 'booking_not_pending'));
        await this.d.keys.finish(trx, record.id, 201, refunded);
        return refunded;
      });
    } catch (err) {
      this.d.logger.error({ err, payment_id: p.id, booking_id: p.bookingId }, 'refund of a payment whose booking was no longer pending failed; reconcile');
      return view;
    }
  }

  private async remember(record: IdempotencyKeyRecord, code: number, body: Record<string, unknown>): Promise<void> {
    await this.d.cache.set(record.userId, record.key, { fingerprint: record.fingerprint, code, body }, this.d.keys.expiresAt(record));
  }

  private count(result: string, err: DomainError): DomainError {
    this.outcomes.inc({ result });
    return err;
  }
}
