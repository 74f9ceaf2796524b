import { isTransaction, sqlState, type Db } from '../../../platform/db.ts';
import { withRetry } from '../../../platform/db-retry.ts';
import { preparedStatement, queryPrepared, type PreparedStatement } from '../../../platform/prepared-query.ts';
import { PendingLimitError, type PendingLimit } from './pending-caps.ts';
import { SeatsTakenError } from './errors.ts';
import type { BookingRecord, NewBooking, PendingWrite } from './types.ts';

/**
 * `createPending` as one call of a booking-schema function (ADR 0072 for the own tables, ADR 0079 for the
 * shared ones): `fn(booking, seats, event, max_bookings, max_seats_per_showtime, now)` runs the caps, the
 * booking with its seats, the saga row and the outbox row. Given the pool, the call is a transaction of its
 * own and runs again on 40001/40P01; given a transaction, it writes in it (a deadlock has then aborted the
 * caller's transaction, and the caller retries it). The function's refusals (BK001, BK002) come back as
 * the errors the service expects; `refuse` maps the store's other errors.
 */
export async function callCreatePending(
  db: Db, statement: PreparedStatement, b: NewBooking, write: PendingWrite, refuse: (err: unknown) => Error | undefined = () => undefined,
): Promise<BookingRecord> {
  const args = createPendingArgs(b, write);
  const call = () => queryPrepared(db, statement, args);
  try {
    await (isTransaction(db) ? call() : withRetry(call, write.onRetry ? { onRetry: write.onRetry } : {}));
  } catch (err) {
    throw refusal(err, b, write) ?? refuse(err) ?? err;
  }
  return { ...b, status: 'pending', cancelReason: null, updatedAt: b.createdAt };
}

/** the call of create-pending function `fn` (schema-qualified), prepared once per connection: every booking makes it */
export const createPendingStatement = (fn: string): PreparedStatement =>
  preparedStatement(`SELECT ${fn}($1::jsonb, $2::jsonb, $3::jsonb, $4::int, $5::int, $6::timestamptz)`);

/** the functions' arguments: the booking, its seats sorted by id (the insertion order), the event, the caps */
function createPendingArgs(b: NewBooking, write: PendingWrite): (string | number)[] {
  const seats = [...b.seats].sort((x, y) => (x.seatId < y.seatId ? -1 : 1));
  return [
    JSON.stringify({
      id: b.id, user_id: b.userId, user_email: b.userEmail, showtime_id: b.showtimeId, showtime_snapshot: b.snapshot,
      total_price: b.totalPrice, currency: b.currency, expires_at: b.expiresAt.toISOString(), created_at: b.createdAt.toISOString(),
    }),
    JSON.stringify(seats.map((s, ord) => ({ seat_id: s.seatId, snap: { row: s.row, number: s.number, type: s.type }, price: s.price, ord }))),
    JSON.stringify(write.event),
    write.limits.maxBookings,
    write.limits.maxSeatsPerShowtime,
    write.now.toISOString(),
  ];
}

/** the functions' own refusals (SQLSTATE BK001 / BK002, DETAIL in JSON) as the errors the service expects */
function refusal(err: unknown, b: NewBooking, write: PendingWrite): Error | undefined {
  const state = sqlState(err);
  if (state !== 'BK001' && state !== 'BK002') return undefined;
  const detail = JSON.parse((err as { detail?: string }).detail ?? 'null') as unknown;
  if (state === 'BK002') return new SeatsTakenError(detail as string[]);
  const { limit, pending } = detail as { limit: PendingLimit; pending: number };
  return limit === 'pending_bookings'
    ? new PendingLimitError(limit, write.limits.maxBookings, pending, 1)
    : new PendingLimitError(limit, write.limits.maxSeatsPerShowtime, pending, b.seats.length);
}
