import type { Db } from '../../../platform/db.ts';
import type { Metrics } from '../../../platform/metrics.ts';
import { GatewayRejectedError, GatewayTimeoutError, GatewayUnavailableError } from './gateway.ts';

export type GatewayCallType = 'charge' | 'refund' | 'lookup';
export type GatewayCallStatus = 'requested' | 'succeeded' | 'declined' | 'not_found' | 'timeout' | 'error';

export interface GatewayCallStart {
  paymentId: string;
  type: GatewayCallType;
  amount: string;
  currency: string;
  gateway: string;
  gatewayIdempotencyKey: string;
  /** what was sent, without secrets */
  request: Record<string, unknown>;
}

export interface GatewayCallEnd {
  status: Exclude<GatewayCallStatus, 'requested'>;
  reference?: string | null;
  replayed?: boolean | null;
  error?: string | null;
}

export interface GatewayCallHandle {
  id: string;
  startedAt: bigint;
}

/** Card tokens are references, not card data, but a log keeps only enough to recognise one. */
export const redactToken = (token: string): string => (token.length <= 12 ? token : `${token.slice(0, 8)}…${token.slice(-4)}`);

/** The status a failed call is logged with; undefined for errors that say nothing about the gateway. */
export function failureStatus(err: unknown): 'timeout' | 'error' | undefined {
  if (err instanceof GatewayTimeoutError) return 'timeout';
  if (err instanceof GatewayUnavailableError || err instanceof GatewayRejectedError) return 'error';
  return undefined;
}

/**
 * payments.transactions: every gateway call. `start` writes the row as `requested` BEFORE the call, on
 * the pool (its own commit), so a call whose answer was never recorded — the process died — stays
 * visible; `finish` settles it, normally in the same transaction as the payment's new state.
 */
export class GatewayLog {
  private readonly calls;
  private readonly latency;
  private readonly schema: string;

  constructor(schema: string, metrics: Metrics) {
    this.schema = schema;
    this.calls = metrics.counter('payment_gateway_calls_total', 'Payment gateway calls by operation and outcome', ['operation', 'outcome']);
    this.latency = metrics.histogram('payment_gateway_call_duration_seconds', 'Payment gateway call latency', ['operation'], [
      0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    ]);
  }

  async start(db: Db, call: GatewayCallStart): Promise<GatewayCallHandle> {
    const [row] = (await db
      .withSchema(this.schema)
      .table('transactions')
      .insert({
        payment_id: call.paymentId,
        type: call.type,
        amount: call.amount,
        currency: call.currency,
        gateway: call.gateway,
        gateway_idempotency_key: call.gatewayIdempotencyKey,
        request: call.request,
        status: 'requested',
      })
      .returning('id')) as { id: string }[];
    return { id: row!.id, startedAt: process.hrtime.bigint() };
  }

  async finish(db: Db, handle: GatewayCallHandle, type: GatewayCallType, end: GatewayCallEnd): Promise<void> {
    const seconds = Number(process.hrtime.bigint() - handle.startedAt) / 1e9;
    this.calls.inc({ operation: type, outcome: end.status });
    this.latency.observe({ operation: type }, seconds);
    await db
      .withSchema(this.schema)
      .table('transactions')
      .where({ id: handle.id })
      .update({
        status: end.status,
        gateway_reference: end.reference ?? null,
        replayed: end.replayed ?? null,
        error: end.error ?? null,
        latency_ms: Math.round(seconds * 1000),
        completed_at: new Date(),
      });
  }

  /** why a payment failed: the decline code of its charge, or why a lookup settled it as failed */
  async failureReason(db: Db, paymentId: string): Promise<string | null> {
    const row = (await db
      .withSchema(this.schema)
      .table('transactions')
      .where({ payment_id: paymentId })
      .whereIn('status', ['declined', 'not_found', 'error'])
      .whereNotNull('error')
      .whereNot({ type: 'refund' })
      .orderBy('created_at', 'desc')
      .first('error')) as { error: string | null } | undefined;
    return row?.error ?? null;
  }
}
