import type { Db, Knex } from '../../../platform/db.ts';
import type { StoreMethods } from '../../../platform/mapping/store-routing.ts';

export type PaymentStatus = 'pending' | 'completed' | 'failed' | 'refunded';
/** a booking has at most one payment in these statuses: being paid, or paid */
export const ACTIVE_PAYMENT_STATUSES: PaymentStatus[] = ['pending', 'completed'];

export interface PaymentRecord {
  id: string;
  bookingId: string;
  userId: string;
  /** exact decimal string, two places */
  amount: string;
  currency: string;
  status: PaymentStatus;
  /** e.g. `card` */
  paymentMethod: string | null;
  /** the gateway's reference of the successful charge */
  transactionId: string | null;
  /** id of the idempotency_keys row that created the payment (unique) */
  idempotencyKey: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewPayment = Pick<PaymentRecord, 'id' | 'bookingId' | 'userId' | 'amount' | 'currency' | 'paymentMethod' | 'idempotencyKey'> & {
  createdAt?: Date;
};

/**
 * Where payments live: the legacy shared `payments` table or the payments schema's own. Both pass
 * test/modules/payment/payment-store.contract.ts. Methods take the pool or an open transaction, so a
 * state change and its outbox event (or, on the old path, the booking update) commit together. Copying
 * payments between the two tables (dual-write, backfill, repair) is the mapping's job
 * (payment-mapping.ts), not the store's.
 */
export interface PaymentStore {
  /**
   * A new pending payment, in the caller's transaction. Throws PaymentExistsError (naming the payment)
   * when the booking already has a pending or completed payment — concurrent inserts for one booking
   * serialize on a transaction-scoped advisory lock, so the check holds on either table.
   */
  insertPending(trx: Knex.Transaction, payment: NewPayment): Promise<PaymentRecord>;
  findById(db: Db, id: string): Promise<PaymentRecord | undefined>;
  /** the payment, its row locked until the transaction ends */
  lockById(trx: Knex.Transaction, id: string): Promise<PaymentRecord | undefined>;
  /** every payment of a booking, oldest first */
  findByBooking(db: Db, bookingId: string): Promise<PaymentRecord[]>;
  /** pending → completed with the gateway's reference; undefined when the payment was not pending */
  markCompleted(db: Db, id: string, transactionId: string): Promise<PaymentRecord | undefined>;
  /** pending → failed; undefined when the payment was not pending */
  markFailed(db: Db, id: string): Promise<PaymentRecord | undefined>;
  /** completed → refunded; undefined when the payment was not completed */
  markRefunded(db: Db, id: string): Promise<PaymentRecord | undefined>;
}

/** How the routing store may route each method (src/platform/mapping/store-routing.ts). */
export const PAYMENT_STORE_METHODS: StoreMethods<PaymentStore> = {
  insertPending: 'write',
  findById: { read: 'payments' },
  lockById: 'lock',
  findByBooking: { read: 'payments' },
  markCompleted: 'write',
  markFailed: 'write',
  markRefunded: 'write',
};

/** Serializes payment inserts for one booking (both stores; the legacy table has no constraint for it). */
export async function lockBookingForPayment(trx: Knex.Transaction, bookingId: string): Promise<void> {
  await trx.raw(`SELECT pg_advisory_xact_lock(hashtext('payment:booking:' || ?))`, [bookingId]);
}

/**
 * The reads both stores answer with the same SQL; only the row → record mapping differs (the legacy
 * table has a nullable currency, status and timestamps).
 */
export function paymentReads<R>(
  payments: (db: Db) => Knex.QueryBuilder,
  toRecord: (row: R) => PaymentRecord,
): Pick<PaymentStore, 'findById' | 'lockById' | 'findByBooking'> {
  return {
    async findById(db, id) {
      const row = (await payments(db).where({ id }).first()) as R | undefined;
      return row ? toRecord(row) : undefined;
    },
    async lockById(trx, id) {
      const row = (await payments(trx).where({ id }).forUpdate().first()) as R | undefined;
      return row ? toRecord(row) : undefined;
    },
    async findByBooking(db, bookingId) {
      // NULLS FIRST: a legacy row without created_at reads as the epoch, so it is the oldest on both sides
      const rows = (await payments(db).where({ booking_id: bookingId }).orderByRaw('created_at ASC NULLS FIRST, id')) as R[];
      return rows.map(toRecord);
    },
  };
}
