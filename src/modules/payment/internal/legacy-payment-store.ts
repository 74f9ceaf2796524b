import type { Db } from '../../../platform/db.ts';
import { normalizeMoney } from '../../../platform/money.ts';
import { PaymentExistsError } from './errors.ts';
import {
  ACTIVE_PAYMENT_STATUSES,
  lockBookingForPayment,
  paymentReads,
  type PaymentRecord,
  type PaymentStatus,
  type PaymentStore,
} from './payment-store.ts';

/**
 * The old shared table: nullable status and timestamps without time zone, and a currency column the
 * strangler migration added (legacy 0006) — NULL on every row the old system wrote.
 */
interface LegacyRow {
  id: string;
  booking_id: string;
  user_id: string;
  amount: string;
  currency: string | null;
  status: string | null;
  payment_method: string | null;
  transaction_id: string | null;
  idempotency_key: string | null;
  created_at: Date | null;
  updated_at: Date | null;
}

const EPOCH = new Date(0);

/**
 * The legacy shared `payments` table, as the old payment service used it, plus the currency the own
 * schema keeps: written for every new payment, so nothing is lost on this side. The old system priced
 * everything in one currency, so its rows (currency NULL) are in `defaultCurrency`. The old foreign keys
 * to the shared bookings and users tables are gone (ADR 0050): a payment may name a booking that lives
 * only in the booking schema.
 */
export function createLegacyPaymentStore(schema: string, defaultCurrency: string): PaymentStore {
  const payments = (db: Db) => db.withSchema(schema).table<LegacyRow>('payments');
  const toRecord = (r: LegacyRow): PaymentRecord => ({
    id: r.id,
    bookingId: r.booking_id,
    userId: r.user_id,
    amount: normalizeMoney(r.amount),
    currency: r.currency ?? defaultCurrency,
    status: (r.status ?? 'pending') as PaymentStatus,
    paymentMethod: r.payment_method,
    transactionId: r.transaction_id,
    idempotencyKey: r.idempotency_key,
    createdAt: r.created_at ?? EPOCH,
    updatedAt: r.updated_at ?? r.created_at ?? EPOCH,
  });
  const transition = async (db: Db, id: string, from: PaymentStatus, to: PaymentStatus, patch: Partial<LegacyRow> = {}) => {
    const [row] = await payments(db)
      .where({ id })
      // the old system left status NULL for a payment it had just created: that is pending
      .where((q) => (from === 'pending' ? q.where('status', 'pending').orWhereNull('status') : q.where('status', from)))
      .update({ ...patch, status: to, updated_at: new Date() })
      .returning('*');
    return row ? toRecord(row as LegacyRow) : undefined;
  };

  return {
    async insertPending(trx, p) {
      await lockBookingForPayment(trx, p.bookingId);
      const active = (await payments(trx)
        .where({ booking_id: p.bookingId })
        .where((q) => q.whereIn('status', ACTIVE_PAYMENT_STATUSES).orWhereNull('status'))
        .first('id', 'status')) as { id: string; status: string | null } | undefined;
      if (active) throw new PaymentExistsError(active.id, active.status ?? 'pending');
      const now = p.createdAt ?? new Date();
      const [row] = await payments(trx)
        .insert({
          id: p.id,
          booking_id: p.bookingId,
          user_id: p.userId,
          amount: p.amount,
          currency: p.currency,
          status: 'pending',
          payment_method: p.paymentMethod,
          transaction_id: null,
          idempotency_key: p.idempotencyKey,
          created_at: now,
          updated_at: now,
        })
        .returning('*');
      return toRecord(row as LegacyRow);
    },
    ...paymentReads(payments, toRecord),
    markCompleted: (db, id, transactionId) => transition(db, id, 'pending', 'completed', { transaction_id: transactionId }),
    markFailed: (db, id) => transition(db, id, 'pending', 'failed'),
    markRefunded: (db, id) => transition(db, id, 'completed', 'refunded'),
  };
}
