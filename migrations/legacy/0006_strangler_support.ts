import type { Knex } from 'knex';
import type { MigrationContext } from '../../src/platform/migrate.ts';

/**
 * Added by boxoffice for the strangler migration (ADR 0050); additive, except for one deliberate removal.
 *
 * 1. Columns the modules' own schemas have and the old tables lacked, so that every aggregate can be
 *    written to either side without losing a field (nullable: rows the old system wrote keep NULL and
 *    the mappings fill in what the old system would have shown, e.g. a booking's showtime snapshot is
 *    rebuilt from the catalog tables):
 *      theaters.updated_at; showtimes.currency, tier_prices, updated_at; bookings.user_email, currency,
 *      showtime_snapshot, cancel_reason; booking_seats.seat_snapshot, price; payments.currency.
 * 2. Foreign keys BETWEEN modules are dropped (bookings → users/showtimes, booking_seats → seats/showtimes,
 *    payments → bookings/users, notifications → users). Modules leave the shared tables one at a time:
 *    once auth writes only its own schema, a new user exists only there, and a booking still kept in the
 *    shared tables must be able to name it. Within a module the keys stay (seats → theaters, showtimes →
 *    movies, booking_seats → bookings). Rows pointing at nothing are then reported by reconciliation.
 */
const MODULE_OF: Record<string, string> = {
  users: 'auth',
  movies: 'movie', theaters: 'movie', seats: 'movie', showtimes: 'movie',
  bookings: 'booking', booking_seats: 'booking',
  payments: 'payment',
  notifications: 'notification',
};

export async function up(knex: Knex, ctx: MigrationContext): Promise<void> {
  await knex.raw(`
    ALTER TABLE theaters ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP;
    ALTER TABLE showtimes ADD COLUMN IF NOT EXISTS currency CHAR(3);
    ALTER TABLE showtimes ADD COLUMN IF NOT EXISTS tier_prices JSONB;
    ALTER TABLE showtimes ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP;
    ALTER TABLE bookings ADD COLUMN IF NOT EXISTS user_email VARCHAR(320);
    ALTER TABLE bookings ADD COLUMN IF NOT EXISTS currency CHAR(3);
    ALTER TABLE bookings ADD COLUMN IF NOT EXISTS showtime_snapshot JSONB;
    ALTER TABLE bookings ADD COLUMN IF NOT EXISTS cancel_reason VARCHAR(500);
    ALTER TABLE booking_seats ADD COLUMN IF NOT EXISTS seat_snapshot JSONB;
    ALTER TABLE booking_seats ADD COLUMN IF NOT EXISTS price DECIMAL(12,2);
    ALTER TABLE payments ADD COLUMN IF NOT EXISTS currency CHAR(3);
  `);
  const { rows } = (await knex.raw(
    `SELECT c.conname, src.relname AS from_table, dst.relname AS to_table
       FROM pg_constraint c
       JOIN pg_class src ON src.oid = c.conrelid
       JOIN pg_class dst ON dst.oid = c.confrelid
       JOIN pg_namespace n ON n.oid = src.relnamespace
      WHERE c.contype = 'f' AND n.nspname = ?`,
    [ctx.legacySchema],
  )) as { rows: { conname: string; from_table: string; to_table: string }[] };
  for (const fk of rows) {
    const from = MODULE_OF[fk.from_table];
    const to = MODULE_OF[fk.to_table];
    if (from && to && from !== to) {
      await knex.raw(`ALTER TABLE "${ctx.legacySchema}"."${fk.from_table}" DROP CONSTRAINT "${fk.conname}"`);
    }
  }
}

export async function down(knex: Knex, ctx: MigrationContext): Promise<void> {
  const s = ctx.legacySchema;
  await knex.raw(`
    ALTER TABLE payments DROP COLUMN IF EXISTS currency;
    ALTER TABLE booking_seats DROP COLUMN IF EXISTS price, DROP COLUMN IF EXISTS seat_snapshot;
    ALTER TABLE bookings DROP COLUMN IF EXISTS cancel_reason, DROP COLUMN IF EXISTS showtime_snapshot,
      DROP COLUMN IF EXISTS currency, DROP COLUMN IF EXISTS user_email;
    ALTER TABLE showtimes DROP COLUMN IF EXISTS updated_at, DROP COLUMN IF EXISTS tier_prices, DROP COLUMN IF EXISTS currency;
    ALTER TABLE theaters DROP COLUMN IF EXISTS updated_at;
    ALTER TABLE "${s}".bookings ADD FOREIGN KEY (user_id) REFERENCES "${s}".users(id) NOT VALID;
    ALTER TABLE "${s}".bookings ADD FOREIGN KEY (showtime_id) REFERENCES "${s}".showtimes(id) NOT VALID;
    ALTER TABLE "${s}".booking_seats ADD FOREIGN KEY (seat_id) REFERENCES "${s}".seats(id) NOT VALID;
    ALTER TABLE "${s}".booking_seats ADD FOREIGN KEY (showtime_id) REFERENCES "${s}".showtimes(id) NOT VALID;
    ALTER TABLE "${s}".payments ADD FOREIGN KEY (booking_id) REFERENCES "${s}".bookings(id) NOT VALID;
    ALTER TABLE "${s}".payments ADD FOREIGN KEY (user_id) REFERENCES "${s}".users(id) NOT VALID;
    ALTER TABLE "${s}".notifications ADD FOREIGN KEY (user_id) REFERENCES "${s}".users(id) NOT VALID;
  `);
}
