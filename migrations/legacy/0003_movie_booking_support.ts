import type { Knex } from 'knex';
import type { MigrationContext } from '../../src/platform/migrate.ts';

/**
 * Added by boxoffice for the movie and booking modules' legacy stores (ADR 0010, 0011); additive only, so
 * anything still reading or writing the old tables keeps working:
 *  - showtimes.cancelled_at: the old schema could not cancel a showtime (only delete it, which the
 *    bookings' foreign key forbids). NULL = scheduled, as every existing row is.
 *  - an index for the expiry sweeper (pending bookings by expires_at); without it every sweep scans
 *    the bookings table.
 *  - the movie role reads bookings/booking_seats: the old movie service derived each seat's state from
 *    them, and its legacy store still does (the coupling the own store's seat_availability removes).
 */
export async function up(knex: Knex, ctx: MigrationContext): Promise<void> {
  await knex.raw(`
    ALTER TABLE showtimes ADD COLUMN IF NOT EXISTS cancelled_at TIMESTAMP;
    ALTER TABLE showtimes ADD COLUMN IF NOT EXISTS cancel_reason VARCHAR(500);
    CREATE INDEX IF NOT EXISTS idx_bookings_pending_expires ON bookings (expires_at) WHERE status = 'pending';
  `);
  const q = (t: string) => `"${ctx.legacySchema}".${t}`;
  await knex.raw(`GRANT SELECT ON ${q('bookings')}, ${q('booking_seats')} TO "${ctx.role('movies')}"`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS idx_bookings_pending_expires;
    ALTER TABLE showtimes DROP COLUMN IF EXISTS cancel_reason;
    ALTER TABLE showtimes DROP COLUMN IF EXISTS cancelled_at;
  `);
}
