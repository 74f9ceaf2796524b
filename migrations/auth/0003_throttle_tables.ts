import type { Knex } from 'knex';

/**
 * Login and registration throttling without Redis (BACKEND=postgres, ADR 0078): rate-limiter-flexible's
 * Postgres store (its table layout: key, points, expire in epoch ms), and the addresses that logged in to
 * an account before, which its delay spares.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE rate_limits (
      key varchar(255) PRIMARY KEY,
      points integer NOT NULL DEFAULT 0,
      expire bigint
    );
    CREATE TABLE login_known_addresses (
      key text PRIMARY KEY,
      expires_at timestamptz NOT NULL
    );
    CREATE INDEX login_known_addresses_expires_idx ON login_known_addresses (expires_at);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS login_known_addresses; DROP TABLE IF EXISTS rate_limits');
}
