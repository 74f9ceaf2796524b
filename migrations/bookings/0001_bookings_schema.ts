import type { Knex } from 'knex';
import { createInboxTableV1, createOutboxNotifyTriggerV1, createOutboxTableV1 } from '../../src/platform/events/outbox-ddl.ts';

/**
 * The booking module's own schema (seed 002 §4.3, §8.2). Showtime and seats are snapshots taken at
 * booking time (no foreign keys into the movie schema).
 *
 * The invariant "a seat of a showtime is held or sold by at most one booking" is the partial unique index
 * on booking_seats (showtime_id, seat_id) WHERE active: `active` is true while the booking is pending or
 * confirmed and is cleared in the same transaction that cancels or expires it (ADR 0011).
 *
 * saga_state is written whichever booking store is selected (the legacy tables have nowhere to keep it),
 * so it holds booking ids without a foreign key — the booking may live in the legacy table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE bookings (
      id UUID PRIMARY KEY,
      user_id UUID NOT NULL,
      user_email TEXT NOT NULL,
      showtime_id UUID NOT NULL,
      showtime_snapshot JSONB NOT NULL,
      status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'cancelled', 'expired')),
      total_price NUMERIC(12,2) NOT NULL CHECK (total_price >= 0),
      currency CHAR(3) NOT NULL,
      expires_at TIMESTAMPTZ,
      cancel_reason TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX bookings_user_created_idx ON bookings (user_id, created_at DESC);
    CREATE INDEX bookings_showtime_idx ON bookings (showtime_id);
    CREATE INDEX bookings_pending_expires_idx ON bookings (expires_at) WHERE status = 'pending';

    CREATE TABLE booking_seats (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      booking_id UUID NOT NULL REFERENCES bookings(id) ON DELETE CASCADE,
      showtime_id UUID NOT NULL,
      seat_id UUID NOT NULL,
      seat_snapshot JSONB NOT NULL,
      price NUMERIC(12,2) NOT NULL,
      active BOOLEAN NOT NULL DEFAULT true,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX booking_seats_booking_idx ON booking_seats (booking_id);
    CREATE UNIQUE INDEX booking_seats_active_seat_key ON booking_seats (showtime_id, seat_id) WHERE active;

    CREATE TABLE saga_state (
      booking_id UUID PRIMARY KEY,
      current_step TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'compensated', 'failed')),
      compensations JSONB NOT NULL DEFAULT '[]',
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
  `);
  await createOutboxTableV1(knex);
  await createOutboxNotifyTriggerV1(knex);
  await createInboxTableV1(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS outbox_notify ON outbox; DROP FUNCTION IF EXISTS outbox_notify()');
  await knex.raw('DROP TABLE IF EXISTS inbox, outbox, saga_state, booking_seats, bookings');
}
