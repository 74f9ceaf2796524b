import type { Knex } from 'knex';

/**
 * Added by boxoffice for the strangler migration (ADR 0050): the old showtimes.price was DECIMAL(10,2)
 * (at most 99,999,999.99) while the movie schema's base_price, and what the API accepts, go to ten integer
 * digits. A showtime priced above the old limit could be written on one side and not copied to the other,
 * failing every write of it while dual-write is on. Widening a NUMERIC's precision at the same scale does
 * not rewrite the table and every value the old system wrote still fits.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE showtimes ALTER COLUMN price TYPE DECIMAL(12,2)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE showtimes ALTER COLUMN price TYPE DECIMAL(10,2)');
}
