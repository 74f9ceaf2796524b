import type { Db } from '../../../platform/db.ts';

export interface SeatChange {
  showtimeId: string;
  seatIds: string[];
}

const group = (rows: { showtime_id: string; seat_id: string }[]): SeatChange[] => {
  const by = new Map<string, string[]>();
  for (const r of rows) by.set(r.showtime_id, [...(by.get(r.showtime_id) ?? []), r.seat_id]);
  return [...by].map(([showtimeId, seatIds]) => ({ showtimeId, seatIds: seatIds.sort() }));
};

/**
 * movies.seat_availability, the movie module's projection of booking events (ADR 0010). Every operation
 * is idempotent and keyed by booking id, and returns only the seats it changed — an event applied twice
 * (or late, after a newer booking took the seat) changes nothing and announces nothing.
 */
export function createSeatProjection(schema = 'movies') {
  const table = `"${schema}".seat_availability`;
  return {
    /** booking.created: hold the seats for the booking until `until` (a sold seat is never taken over) */
    async reserve(db: Db, bookingId: string, showtimeId: string, seatIds: string[], until: Date): Promise<string[]> {
      const { rows } = (await db.raw(
        `INSERT INTO ${table} AS sa (showtime_id, seat_id, status, booking_id, reserved_until)
         SELECT ?::uuid, s, 'held', ?::uuid, ? FROM unnest(?::uuid[]) AS s
         ON CONFLICT (showtime_id, seat_id) DO UPDATE
           SET status = 'held', booking_id = EXCLUDED.booking_id, reserved_until = EXCLUDED.reserved_until,
               version = sa.version + 1, updated_at = now()
           WHERE sa.status <> 'sold' AND sa.booking_id IS DISTINCT FROM EXCLUDED.booking_id
         RETURNING seat_id`,
        [showtimeId, bookingId, until, [...seatIds].sort()],
      )) as { rows: { seat_id: string }[] };
      return rows.map((r) => r.seat_id).sort();
    },
    /** booking.confirmed: the booking's held seats become sold */
    async confirm(db: Db, bookingId: string): Promise<SeatChange[]> {
      const { rows } = (await db.raw(
        `UPDATE ${table} SET status = 'sold', reserved_until = NULL, version = version + 1, updated_at = now()
         WHERE booking_id = ? AND status = 'held' RETURNING showtime_id, seat_id`,
        [bookingId],
      )) as { rows: { showtime_id: string; seat_id: string }[] };
      return group(rows);
    },
    /** booking.cancelled / booking.expired: the booking's seats become available again */
    async release(db: Db, bookingId: string): Promise<SeatChange[]> {
      const { rows } = (await db.raw(
        `UPDATE ${table} SET status = 'available', booking_id = NULL, reserved_until = NULL, version = version + 1, updated_at = now()
         WHERE booking_id = ? AND status IN ('held', 'sold') RETURNING showtime_id, seat_id`,
        [bookingId],
      )) as { rows: { showtime_id: string; seat_id: string }[] };
      return group(rows);
    },
  };
}

export type SeatProjection = ReturnType<typeof createSeatProjection>;
