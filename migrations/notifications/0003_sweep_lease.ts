import type { Knex } from 'knex';

/** The delivery sweeper's once-per-interval lease without Redis (BACKEND=postgres, ADR 0078). */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE sweep_leases (
      name text PRIMARY KEY,
      holder text NOT NULL,
      expires_at timestamptz NOT NULL
    )
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS sweep_leases');
}
