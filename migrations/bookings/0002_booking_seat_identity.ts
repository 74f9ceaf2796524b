import type { Knex } from 'knex';

/**
 * A seat appears once per booking. The strangler mapping (ADR 0050) upserts a booking's seats by
 * (booking_id, seat_id) when it copies the aggregate from the shared tables; this index is what that
 * upsert matches on, and it also refuses a booking that lists a seat twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE UNIQUE INDEX IF NOT EXISTS booking_seats_booking_seat_key ON booking_seats (booking_id, seat_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS booking_seats_booking_seat_key');
}
