import type { Knex } from 'knex';
import { createPendingFunctionV1 } from './create-pending-function.ts';

/**
 * A new pending booking in one statement (ADR 0072): the steps the booking service ran one round trip
 * each — the user's advisory lock, the pending caps, the booking with its seats, the saga row and the
 * booking.created outbox row — as one function. The invariant is still the partial unique index on
 * booking_seats (ADR 0011): seats go in with INSERT … ON CONFLICT DO NOTHING in the order given (sorted by
 * the caller); a seat that did not go in is held by another active booking, and the function raises, so
 * nothing it wrote survives.
 *
 * Errors the caller maps (SQLSTATEs of our own, class BK, never retried):
 *  - BK001 pending cap reached: DETAIL is {"limit", "pending"};
 *  - BK002 seats held by another booking: DETAIL is the JSON array of those seat ids, in the order given.
 *
 * The caller sends the seats sorted, each with its position (`ord`). VOLATILE (the default): under READ COMMITTED every statement of the body takes a fresh snapshot, so the
 * count that follows the advisory lock sees what the lock's previous holder committed — as the two
 * statements did when they were separate.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(createPendingFunctionV1({
    name: 'create_pending_booking',
    tables: { bookings: 'bookings', bookingSeats: 'booking_seats' },
    utc: false,
    declare: `
      v_inserted integer;
      v_taken jsonb;`,
    seats: `
      INSERT INTO bookings (id, user_id, user_email, showtime_id, showtime_snapshot, status, total_price, currency, expires_at, created_at, updated_at)
      VALUES (v_id, v_user, p_booking->>'user_email', v_showtime, p_booking->'showtime_snapshot', 'pending',
              (p_booking->>'total_price')::numeric, p_booking->>'currency', (p_booking->>'expires_at')::timestamptz, v_created, v_created);

      WITH requested AS (
        SELECT x.seat_id, x.snap, x.price, x.ord FROM jsonb_to_recordset(p_seats) AS x(seat_id uuid, snap jsonb, price numeric, ord integer)
      ), inserted AS (
        INSERT INTO booking_seats (booking_id, showtime_id, seat_id, seat_snapshot, price, created_at)
        SELECT v_id, v_showtime, r.seat_id, r.snap, r.price, v_created FROM requested r ORDER BY r.ord
        ON CONFLICT (showtime_id, seat_id) WHERE active DO NOTHING
        RETURNING seat_id
      )
      SELECT (SELECT count(*) FROM inserted),
             (SELECT coalesce(jsonb_agg(r.seat_id ORDER BY r.ord), '[]') FROM requested r WHERE r.seat_id NOT IN (SELECT i.seat_id FROM inserted i))
        INTO v_inserted, v_taken;
      IF v_inserted < v_requested THEN
        RAISE EXCEPTION 'seats held by another booking' USING ERRCODE = 'BK002', DETAIL = v_taken::text;
      END IF;`,
  }));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION IF EXISTS create_pending_booking(jsonb, jsonb, jsonb, integer, integer, timestamptz)');
}
