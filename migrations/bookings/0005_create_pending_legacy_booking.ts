import type { Knex } from 'knex';
import type { MigrationContext } from '../../src/platform/migrate.ts';
import { createPendingFunctionV1 } from './create-pending-function.ts';

/**
 * A new pending booking on the OLD shared tables in one statement (ADR 0079), as create_pending_booking
 * (0004) is on the own tables: the steps the legacy store ran one round trip each, in the same order —
 * the user's advisory lock and pending caps (counted on the shared tables), a transaction-scoped advisory
 * lock per requested seat in seat order (ADR 0070: the shared tables have no unique index, so the lock
 * and the check that follows keep a seat in one active booking), the check of those seats against every
 * pending or confirmed booking, the booking and its seats, then the saga row and the booking.created outbox
 * row in this schema. The shared tables are not changed: the function lives in the booking module's schema
 * and writes them as the store's statements did, with the booking role's rights (SECURITY INVOKER).
 *
 * The lock keys are the ones the statements took (`boxoffice:legacy-booking-seat:<showtime>:<seat>`, the ids
 * as the caller spelled them, sorted as text by Postgres), so a process still writing in steps and one
 * calling this exclude each other while a release rolls out.
 *
 * The shared tables' timestamps are `timestamp` (no zone) holding UTC (the pool writes and reads them so,
 * src/platform/db.ts): values are converted `AT TIME ZONE 'UTC'`, whatever the session's TimeZone.
 *
 * The seats are checked with `seat_id = ANY (array)`, so both columns of the shared tables' (showtime_id,
 * seat_id) index bound the scan; a `seat_id IN (subquery)` bounded it by the showtime only, and the check
 * read every booked seat of the showtime (bookings/s fell by half as a showtime filled).
 *
 * Errors the caller maps (as 0004's): BK001 pending cap reached (DETAIL {"limit", "pending"}); BK002 seats
 * held by another booking (DETAIL: the JSON array of their ids). A unique violation of the own schema's
 * active-seat index can surface here while the phase dual-writes (the capture trigger copies the seats in
 * this transaction); the store maps it as before.
 *
 * The legacy schema is the one migrated (LEGACY_SCHEMA at `boxoffice migrate`), written into the body as
 * the dual-write functions write it into theirs.
 */
export async function up(knex: Knex, ctx: MigrationContext): Promise<void> {
  const legacy = (table: string) => `"${ctx.legacySchema.replace(/"/g, '""')}".${table}`;
  await knex.raw(createPendingFunctionV1({
    name: 'create_pending_legacy_booking',
    tables: { bookings: legacy('bookings'), bookingSeats: legacy('booking_seats') },
    utc: true,
    declare: `
      v_seat_ids uuid[] := ARRAY(SELECT (s->>'seat_id')::uuid FROM jsonb_array_elements(p_seats) s);
      v_taken jsonb;`,
    seats: `
      PERFORM pg_advisory_xact_lock(hashtextextended(k, 0))
         FROM (SELECT 'boxoffice:legacy-booking-seat:' || (p_booking->>'showtime_id') || ':' || (s->>'seat_id') AS k
                 FROM jsonb_array_elements(p_seats) s ORDER BY 1) keys;
      SELECT coalesce(jsonb_agg(t.seat_id), '[]') INTO v_taken FROM (
        SELECT DISTINCT bs.seat_id FROM ${legacy('booking_seats')} bs JOIN ${legacy('bookings')} bk ON bk.id = bs.booking_id
         WHERE bs.showtime_id = v_showtime AND COALESCE(bk.status, 'pending') IN ('pending', 'confirmed')
           AND bs.seat_id = ANY (v_seat_ids)
      ) t;
      IF jsonb_array_length(v_taken) > 0 THEN
        RAISE EXCEPTION 'seats held by another booking' USING ERRCODE = 'BK002', DETAIL = v_taken::text;
      END IF;

      INSERT INTO ${legacy('bookings')} (id, user_id, user_email, showtime_id, showtime_snapshot, status, total_price, currency, expires_at, created_at, updated_at)
      VALUES (v_id, v_user, p_booking->>'user_email', v_showtime, p_booking->'showtime_snapshot', 'pending',
              (p_booking->>'total_price')::numeric, p_booking->>'currency', (p_booking->>'expires_at')::timestamptz AT TIME ZONE 'UTC', v_created, v_created);
      INSERT INTO ${legacy('booking_seats')} (booking_id, seat_id, showtime_id, seat_snapshot, price, created_at)
      SELECT v_id, x.seat_id, v_showtime, x.snap, x.price, v_created
        FROM jsonb_to_recordset(p_seats) AS x(seat_id uuid, snap jsonb, price numeric, ord integer) ORDER BY x.ord;`,
  }));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION IF EXISTS create_pending_legacy_booking(jsonb, jsonb, jsonb, integer, integer, timestamptz)');
}
