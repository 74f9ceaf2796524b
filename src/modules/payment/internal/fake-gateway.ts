import { randomBytes } from 'node:crypto';
import type { Knex } from '../../../platform/db.ts';
import { normalizeMoney } from '../../../platform/money.ts';
import { sqlState } from '../../../platform/db.ts';
import {
  GatewayRejectedError,
  type ChargeRequest,
  type ChargeResult,
  type PaymentGateway,
  type RefundRequest,
  type RefundResult,
} from './gateway.ts';

/** The fake's card tokens (ADR 0032). Any other token is declined with `invalid_token`. */
export const FAKE_TOKENS = {
  success: 'tok_success',
  decline: 'tok_decline',
  /** never answers (and never charges): the caller's deadline fires */
  timeout: 'tok_timeout',
  /** charges, then our process "dies" before it hears the answer (see `crash`) */
  chargeThenCrash: 'tok_charge_then_crash',
} as const;

interface LedgerRow {
  idempotency_key: string;
  operation: 'charge' | 'refund';
  reference: string;
  charge_reference: string | null;
  token: string | null;
  amount: string;
  currency: string;
  outcome: 'succeeded' | 'declined';
  decline_code: string | null;
  card_last_four: string | null;
  requests: number;
}

export interface FakeGatewayOptions {
  /** the pool the ledger lives in; every ledger write is its own (autocommitted) statement */
  db: Knex;
  schema: string;
  /**
   * What "our process dies right after the charge" means: throw (in-process tests; the caller's generic
   * error path leaves the payment as a crash would) or really end the process (SIGKILL).
   */
  crash: () => Promise<never>;
}

const ref = (prefix: string) => `${prefix}_fake_${randomBytes(12).toString('hex')}`;

function waitForAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * A deterministic gateway: outcomes are decided by the card token, and the ledger (table
 * fake_gateway_ledger) plays the gateway's own records — it honours idempotency keys exactly as a real
 * gateway does: a repeated key returns the first outcome (marked `replayed`) and never charges again; a
 * repeated key with different parameters is refused.
 */
export function createFakeGateway(options: FakeGatewayOptions): PaymentGateway {
  const ledger = () => options.db.withSchema(options.schema).table('fake_gateway_ledger');

  /** insert once per key; a repeat bumps `requests` and returns the first row */
  async function record(row: Omit<LedgerRow, 'requests'>): Promise<{ row: LedgerRow; fresh: boolean }> {
    let inserted: LedgerRow[];
    try {
      inserted = (await ledger().insert(row).onConflict('idempotency_key').ignore().returning('*')) as LedgerRow[];
    } catch (err) {
      if (sqlState(err) === '23505') throw new GatewayRejectedError('the charge was already refunded under another key');
      throw err;
    }
    if (inserted[0]) return { row: inserted[0], fresh: true };
    const [existing] = (await ledger()
      .where({ idempotency_key: row.idempotency_key })
      .update({ requests: options.db.raw('requests + 1'), last_request_at: options.db.fn.now() })
      .returning('*')) as LedgerRow[];
    if (!existing) throw new GatewayRejectedError('idempotency key vanished');
    const same =
      existing.operation === row.operation &&
      normalizeMoney(existing.amount) === normalizeMoney(row.amount) &&
      existing.currency === row.currency &&
      existing.token === row.token &&
      existing.charge_reference === row.charge_reference;
    if (!same) throw new GatewayRejectedError('idempotency key reused with different parameters');
    return { row: existing, fresh: false };
  }

  const toCharge = (row: LedgerRow, replayed: boolean): ChargeResult =>
    row.outcome === 'succeeded'
      ? { outcome: 'succeeded', reference: row.reference, cardLastFour: row.card_last_four, replayed }
      : { outcome: 'declined', reference: row.reference, declineCode: row.decline_code ?? 'card_declined', cardLastFour: row.card_last_four, replayed };

  return {
    name: 'fake',
    async charge(req: ChargeRequest, signal: AbortSignal): Promise<ChargeResult> {
      if (req.token === FAKE_TOKENS.timeout) return waitForAbort(signal);
      const declineCode = req.token === FAKE_TOKENS.decline ? 'card_declined' : isKnown(req.token) ? null : 'invalid_token';
      const { row, fresh } = await record({
        idempotency_key: req.idempotencyKey,
        operation: 'charge',
        reference: ref('ch'),
        charge_reference: null,
        token: req.token,
        amount: req.amount,
        currency: req.currency,
        outcome: declineCode ? 'declined' : 'succeeded',
        decline_code: declineCode,
        card_last_four: declineCode === 'invalid_token' ? null : declineCode ? '0002' : '4242',
      });
      if (fresh && req.token === FAKE_TOKENS.chargeThenCrash) await options.crash();
      return toCharge(row, !fresh);
    },
    async refund(req: RefundRequest): Promise<RefundResult> {
      const charge = (await ledger().where({ reference: req.chargeReference, operation: 'charge' }).first()) as LedgerRow | undefined;
      if (!charge || charge.outcome !== 'succeeded') throw new GatewayRejectedError(`no successful charge ${req.chargeReference}`);
      if (normalizeMoney(req.amount) !== normalizeMoney(charge.amount) || req.currency !== charge.currency) {
        throw new GatewayRejectedError('only full refunds are supported');
      }
      const { row, fresh } = await record({
        idempotency_key: req.idempotencyKey,
        operation: 'refund',
        reference: ref('re'),
        charge_reference: req.chargeReference,
        token: null,
        amount: req.amount,
        currency: req.currency,
        outcome: 'succeeded',
        decline_code: null,
        card_last_four: charge.card_last_four,
      });
      return { outcome: 'succeeded', reference: row.reference, replayed: !fresh };
    },
    async findCharge(idempotencyKey: string): Promise<ChargeResult | undefined> {
      const row = (await ledger().where({ idempotency_key: idempotencyKey, operation: 'charge' }).first()) as LedgerRow | undefined;
      return row ? toCharge(row, true) : undefined;
    },
  };
}

const isKnown = (token: string) => (Object.values(FAKE_TOKENS) as string[]).includes(token);
