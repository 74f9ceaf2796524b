import { EPOCH_SQL, f, type ModuleMapping } from '../../../platform/mapping/aggregate-mapping.ts';

export interface PaymentMappingOptions {
  /** what the old system's payments (currency NULL) were priced in: the configured DEFAULT_CURRENCY */
  defaultCurrency: string;
  ownSchema?: string;
}

const CURRENCY = /^[A-Z]{3}$/;

/**
 * Where payment's data lives on each side (ADR 0050). Payments move, one row per aggregate; every
 * column of the own table has its counterpart in the shared table (currency was added by legacy 0006).
 * The old system's rows read as its store shows them: no currency → DEFAULT_CURRENCY, no status →
 * pending, no timestamps → the epoch (updated_at falls back to created_at).
 *
 * Everything else payment keeps was born with the module and has no legacy counterpart, so it stays in
 * the payments schema in every phase (see `ownOnly`).
 */
export function createPaymentMapping(options: PaymentMappingOptions): ModuleMapping {
  const { defaultCurrency, ownSchema = 'payments' } = options;
  // it goes into generated SQL as a literal: accept nothing but an ISO 4217 code
  if (!CURRENCY.test(defaultCurrency)) throw new RangeError(`default currency must be an ISO 4217 code, not ${JSON.stringify(defaultCurrency)}`);
  return {
    module: 'payment',
    ownSchema,
    aggregates: [
      {
        module: 'payment',
        name: 'payments',
        description: 'a payment of one booking: amount and currency, status, the gateway reference of its charge',
        legacy: {
          table: 'payments',
          fields: [
            f.uuid('id'),
            f.uuid('booking_id'),
            f.uuid('user_id'),
            f.money('amount'),
            f.char('currency', { read: `COALESCE(t.currency, '${defaultCurrency}')` }),
            f.text('status', { read: `COALESCE(t.status, 'pending')` }),
            f.text('payment_method'),
            f.text('transaction_id'),
            f.text('idempotency_key'),
            f.timestamp('created_at', { read: `COALESCE(t.created_at, ${EPOCH_SQL})` }),
            f.timestamp('updated_at', { read: `COALESCE(t.updated_at, t.created_at, ${EPOCH_SQL})` }),
          ],
        },
        own: {
          table: 'payments',
          fields: [
            f.uuid('id'),
            f.uuid('booking_id'),
            f.uuid('user_id'),
            f.money('amount'),
            f.char('currency'),
            f.text('status'),
            f.text('payment_method'),
            f.text('transaction_id'),
            f.text('idempotency_key'),
            f.timestamptz('created_at'),
            f.timestamptz('updated_at'),
          ],
        },
      },
    ],
    ownOnly: [
      { table: 'transactions', why: 'every gateway call (charge, refund, lookup) with its outcome; new with the payment module — the old service logged none' },
      { table: 'booking_snapshots', why: "payment's own copy of bookings, built from booking.* events so it never reads booking's tables; the old service read the shared bookings table instead" },
      { table: 'idempotency_keys', why: 'Stripe-style Idempotency-Key records with recovery points; new with the module (the old service had none)' },
      { table: 'fake_gateway_ledger', why: "the fake gateway's own records, standing in for the gateway's side; not payment data, and empty with a real gateway" },
      { table: 'outbox', why: "payment.* events waiting for the relay; the old system published no events" },
      { table: 'inbox', why: 'ids of booking.* events already handled (consumer deduplication); the old system consumed no events' },
    ],
  };
}
