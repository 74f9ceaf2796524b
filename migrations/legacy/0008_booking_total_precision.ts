import type { Knex } from 'knex';

/**
 * Added by boxoffice for the strangler migration (ADR 0050): the old bookings.total_price was DECIMAL(10,2)
 * (at most 99,999,999.99) while the booking schema's total_price — and a booking's seat prices, each up to
 * ten integer digits — go to NUMERIC(12,2). A booking above the old limit could be written on one side and
 * not copied to the other, failing its write while dual-write is on. Widening a NUMERIC's precision at the
 * same scale does not rewrite the table, and every value the old system wrote still fits.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE bookings ALTER COLUMN total_price TYPE DECIMAL(12,2)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE bookings ALTER COLUMN total_price TYPE DECIMAL(10,2)');
}
