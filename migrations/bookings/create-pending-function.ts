/**
 * The frame both create-pending functions share (migrations 0004 and 0005, ADRs 0072 and 0079), as it was
 * when they were written: the signature, the ids read from the booking, the user's advisory lock and the
 * pending caps counted on `tables`, then `seats` (the store's own seat steps), then the saga row and the
 * booking.created outbox row in the function's schema. Errors: BK001 (DETAIL {"limit", "pending"}); the
 * seat steps raise BK002. A migration's SQL must not change once it ran: a change here is a new version
 * (a V2 next to this one), never an edit.
 *
 * `utc`: the tables' timestamps are `timestamp` (no zone) holding UTC, so instants are converted
 * `AT TIME ZONE 'UTC'` (v_created, v_now) whatever the session's TimeZone.
 */
export function createPendingFunctionV1(o: { name: string; tables: { bookings: string; bookingSeats: string }; utc: boolean; declare: string; seats: string }): string {
  const instant = (expr: string) => (o.utc ? `${expr} AT TIME ZONE 'UTC'` : expr);
  const ts = o.utc ? 'timestamp' : 'timestamptz';
  return `
    CREATE FUNCTION ${o.name}(
      p_booking jsonb, p_seats jsonb, p_event jsonb, p_max_bookings integer, p_max_seats_per_showtime integer, p_now timestamptz
    ) RETURNS void
    LANGUAGE plpgsql
    SET search_path FROM CURRENT
    AS $fn$
    DECLARE
      v_id uuid := (p_booking->>'id')::uuid;
      v_user uuid := (p_booking->>'user_id')::uuid;
      v_showtime uuid := (p_booking->>'showtime_id')::uuid;
      v_created ${ts} := ${instant(`(p_booking->>'created_at')::timestamptz`)};
      v_now ${ts} := ${instant('p_now')};
      v_requested integer := jsonb_array_length(p_seats);
      v_pending_bookings bigint;
      v_pending_seats bigint;
      ${o.declare.trim()}
    BEGIN
      -- the user's pending caps, counted one request after another (keyed by the user id as the caller sent it)
      PERFORM pg_advisory_xact_lock(hashtext('boxoffice:booking:pending'), hashtext(p_booking->>'user_id'));
      SELECT count(DISTINCT b.id), count(bs.seat_id) FILTER (WHERE b.showtime_id = v_showtime)
        INTO v_pending_bookings, v_pending_seats
        FROM ${o.tables.bookings} b LEFT JOIN ${o.tables.bookingSeats} bs ON bs.booking_id = b.id
       WHERE b.user_id = v_user AND b.status = 'pending' AND (b.expires_at IS NULL OR b.expires_at > v_now);
      IF v_pending_bookings >= p_max_bookings THEN
        RAISE EXCEPTION 'pending bookings cap reached' USING ERRCODE = 'BK001',
          DETAIL = json_build_object('limit', 'pending_bookings', 'pending', v_pending_bookings)::text;
      END IF;
      IF v_pending_seats + v_requested > p_max_seats_per_showtime THEN
        RAISE EXCEPTION 'pending seats per showtime cap reached' USING ERRCODE = 'BK001',
          DETAIL = json_build_object('limit', 'pending_seats_per_showtime', 'pending', v_pending_seats)::text;
      END IF;

      ${o.seats.trim()}

      INSERT INTO saga_state (booking_id, current_step, status) VALUES (v_id, 'awaiting_payment', 'running');
      INSERT INTO outbox (event_id, event_type, routing_key, envelope)
      VALUES ((p_event->>'event_id')::uuid, p_event->>'event_type', p_event->>'event_type', p_event);
    END
    $fn$`;
}
