import type { Knex } from 'knex';

/**
 * The catalog cache's generation without Redis (BACKEND=postgres, ADR 0078): one row, bumped after every
 * catalog write, read before every cached read (src/modules/movie/internal/catalog-cache.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE catalog_generation (
      only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
      gen bigint NOT NULL DEFAULT 0
    );
    INSERT INTO catalog_generation DEFAULT VALUES;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS catalog_generation');
}
