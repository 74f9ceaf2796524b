import type { Db } from '../../../platform/db.ts';
import { ConflictError } from '../../../platform/errors.ts';

export type PendingLimit = 'pending_seats_per_showtime' | 'pending_bookings';

/** 409 naming the cap a new booking would pass; paying, cancelling or letting a booking expire frees it. */
export class PendingLimitError extends ConflictError {
  constructor(limit: PendingLimit, max: number, pending: number, requested: number) {
    const what = limit === 'pending_seats_per_showtime'
      ? `you already hold ${pending} seat(s) of this showtime in unpaid bookings; ${requested} more would pass the limit of ${max}`
      : `you already have ${pending} unpaid booking(s), the most one account may have at once (${max})`;
    super(`${what}: pay for or cancel a booking, or let it expire`, 'pending-limit-reached', { limit, max, pending, requested });
  }
}

export interface PendingCapsOptions {
  maxSeatsPerShowtime: number;
  maxBookings: number;
}

/**
 * How much one account may hold without paying (seat hoarding: one user held all 58 seats of a showtime
 * for 15 minutes, again and again). Checked inside the booking's transaction under a per-user advisory
 * lock, so concurrent requests of one user are counted one after another and cannot pass the cap together;
 * other users never wait on it. Both stores check inside the function that creates the booking
 * (migrations/bookings/0004 and 0005: same lock key, and the count of `countPending` on their tables).
 */
export function createPendingCaps(options: PendingCapsOptions) {
  return { limits: options };
}

export type PendingCaps = ReturnType<typeof createPendingCaps>;

/**
 * The user's pending bookings not yet run out, and the seats they hold in one showtime. One query for
 * both stores: their bookings and booking_seats tables share the columns it reads.
 */
export async function countPending(db: Db, schema: string, userId: string, showtimeId: string, now: Date): Promise<{ bookings: number; seatsInShowtime: number }> {
  const { rows } = (await db.raw(
    `SELECT count(DISTINCT b.id) AS bookings, count(bs.seat_id) FILTER (WHERE b.showtime_id = ?) AS seats
       FROM "${schema}".bookings b LEFT JOIN "${schema}".booking_seats bs ON bs.booking_id = b.id
      WHERE b.user_id = ? AND b.status = 'pending' AND (b.expires_at IS NULL OR b.expires_at > ?)`,
    [showtimeId, userId, now],
  )) as { rows: { bookings: string; seats: string }[] };
  return { bookings: Number(rows[0]!.bookings), seatsInShowtime: Number(rows[0]!.seats) };
}
