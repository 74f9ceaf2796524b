import type { Knex } from 'knex';
import { createInboxTableV1, createOutboxNotifyTriggerV1, createOutboxTableV1 } from '../../src/platform/events/outbox-ddl.ts';

/**
 * The movie module's own schema (seed 002 §4.2, §8.2). Same ids as the legacy tables so dual-write and
 * backfill copy rows 1:1. `seat_availability` is the module's projection of booking events (one row per
 * seat of a showtime; ADR 0010): it has no foreign keys, because events may name showtimes that so far
 * live only in the legacy tables (before backfill) and a projection must never refuse an event.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE movies (
      id UUID PRIMARY KEY,
      title TEXT NOT NULL,
      description TEXT,
      duration_minutes INTEGER NOT NULL CHECK (duration_minutes > 0),
      genre TEXT,
      rating TEXT,
      release_date DATE,
      poster_url TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX movies_title_idx ON movies (lower(title));
    CREATE INDEX movies_genre_idx ON movies (genre);

    CREATE TABLE theaters (
      id UUID PRIMARY KEY,
      name TEXT NOT NULL,
      city TEXT,
      total_seats INTEGER NOT NULL DEFAULT 0,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX theaters_city_idx ON theaters (city);

    CREATE TABLE seats (
      id UUID PRIMARY KEY,
      theater_id UUID NOT NULL REFERENCES theaters(id) ON DELETE CASCADE,
      row_label TEXT NOT NULL,
      seat_number INTEGER NOT NULL CHECK (seat_number > 0),
      seat_type TEXT NOT NULL DEFAULT 'standard',
      UNIQUE (theater_id, row_label, seat_number)
    );

    CREATE TABLE showtimes (
      id UUID PRIMARY KEY,
      movie_id UUID NOT NULL REFERENCES movies(id),
      theater_id UUID NOT NULL REFERENCES theaters(id),
      start_time TIMESTAMPTZ NOT NULL,
      end_time TIMESTAMPTZ NOT NULL,
      base_price NUMERIC(12,2) NOT NULL CHECK (base_price >= 0),
      currency CHAR(3) NOT NULL,
      tier_prices JSONB NOT NULL DEFAULT '{}',
      status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'cancelled')),
      cancel_reason TEXT,
      total_seats INTEGER NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      CHECK (end_time > start_time)
    );
    CREATE INDEX showtimes_movie_start_idx ON showtimes (movie_id, start_time);
    CREATE INDEX showtimes_theater_start_idx ON showtimes (theater_id, start_time);
    CREATE INDEX showtimes_start_idx ON showtimes (start_time);

    CREATE TABLE seat_availability (
      showtime_id UUID NOT NULL,
      seat_id UUID NOT NULL,
      status TEXT NOT NULL DEFAULT 'available' CHECK (status IN ('available', 'held', 'sold')),
      booking_id UUID,
      reserved_until TIMESTAMPTZ,
      version INTEGER NOT NULL DEFAULT 1,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (showtime_id, seat_id)
    );
    CREATE INDEX seat_availability_booking_idx ON seat_availability (booking_id) WHERE booking_id IS NOT NULL;
  `);
  await createOutboxTableV1(knex);
  await createOutboxNotifyTriggerV1(knex);
  await createInboxTableV1(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS outbox_notify ON outbox; DROP FUNCTION IF EXISTS outbox_notify()');
  await knex.raw('DROP TABLE IF EXISTS inbox, outbox, seat_availability, showtimes, seats, theaters, movies');
}
