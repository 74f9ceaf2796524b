import type { Db, Knex } from '../../../platform/db.ts';
import { transactionWithRetry } from '../../../platform/db-retry.ts';
import { appendToOutbox } from '../../../platform/events/outbox.ts';
import { checkPendingCaps } from './pending-caps.ts';
import { createSagaState } from './saga-state.ts';
import type { BookingRecord, BookingStore, NewBooking, PendingWrite } from './types.ts';

export const isTransaction = (db: Db): db is Knex.Transaction => (db as { isTransaction?: boolean }).isTransaction === true;

/**
 * `createPending` one statement at a time, in one transaction (the caller's, or one of its own retried on
 * 40001/40P01): the user's lock and pending caps, the store's insertPending, the saga row, the outbox row.
 * The legacy store creates bookings this way; the own store does the same in one function call.
 */
export async function createPendingInSteps(
  db: Db, store: Pick<BookingStore, 'insertPending' | 'pendingOf'>, booking: NewBooking, write: PendingWrite, schema: string,
): Promise<BookingRecord> {
  const saga = createSagaState(schema);
  const steps = async (trx: Knex.Transaction) => {
    await checkPendingCaps(trx, store, write.limits, booking.userId, booking.showtimeId, booking.seats.length, write.now);
    const created = await store.insertPending(trx, booking);
    await saga.start(trx, booking.id);
    await appendToOutbox(trx, schema, write.event);
    return created;
  };
  return isTransaction(db) ? steps(db) : transactionWithRetry(db, steps, write.onRetry ? { onRetry: write.onRetry } : {});
}
