import { sqlState, type Db } from '../../../platform/db.ts';
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

interface Row {
  id: string;
  booking_id: string;
  user_id: string;
  amount: string;
  currency: string;
  status: PaymentStatus;
  payment_method: string | null;
  transaction_id: string | null;
  idempotency_key: string | null;
  created_at: Date;
  updated_at: Date;
}

const toRecord = (r: Row): PaymentRecord => ({
  id: r.id,
  bookingId: r.booking_id,
  userId: r.user_id,
  amount: normalizeMoney(r.amount),
  currency: r.currency,
  status: r.status,
  paymentMethod: r.payment_method,
  transactionId: r.transaction_id,
  idempotencyKey: r.idempotency_key,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/**
 * payments.payments — the module's own table (timestamptz, a currency per payment, status checked, and
 * a partial unique index that allows one pending-or-completed payment per booking).
 */
export function createOwnPaymentStore(schema = 'payments'): PaymentStore {
  const payments = (db: Db) => db.withSchema(schema).table<Row>('payments');
  const activeOf = async (db: Db, bookingId: string) =>
    (await payments(db).where({ booking_id: bookingId }).whereIn('status', ACTIVE_PAYMENT_STATUSES).first('id', 'status')) as
      | { id: string; status: string }
      | undefined;
  const transition = async (db: Db, id: string, from: PaymentStatus, to: PaymentStatus, patch: Partial<Row> = {}) => {
    const [row] = await payments(db)
      .where({ id, status: from })
      .update({ ...patch, status: to, updated_at: new Date() })
      .returning('*');
    return row ? toRecord(row as Row) : undefined;
  };

  return {
    async insertPending(trx, p) {
      await lockBookingForPayment(trx, p.bookingId);
      const active = await activeOf(trx, p.bookingId);
      if (active) throw new PaymentExistsError(active.id, active.status);
      const now = p.createdAt ?? new Date();
      try {
        const [row] = await payments(trx)
          .insert({
            id: p.id,
            booking_id: p.bookingId,
            user_id: p.userId,
            amount: p.amount,
            currency: p.currency,
            status: 'pending',
            payment_method: p.paymentMethod,
            idempotency_key: p.idempotencyKey,
            created_at: now,
            updated_at: now,
          })
          .returning('*');
        return toRecord(row as Row);
      } catch (err) {
        // the partial unique index is the backstop for a writer that skipped the advisory lock
        if (sqlState(err) === '23505') {
          const existing = await activeOf(trx, p.bookingId);
          if (existing) throw new PaymentExistsError(existing.id, existing.status);
        }
        throw err;
      }
    },
    ...paymentReads(payments, toRecord),
    markCompleted: (db, id, transactionId) => transition(db, id, 'pending', 'completed', { transaction_id: transactionId }),
    markFailed: (db, id) => transition(db, id, 'pending', 'failed'),
    markRefunded: (db, id) => transition(db, id, 'completed', 'refunded'),
  };
}
