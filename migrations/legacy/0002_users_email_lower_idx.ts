import type { Knex } from 'knex';

/**
 * Added by boxoffice, not part of the old schema: the old unique index on users.email is
 * case-sensitive, while logins look addresses up case-insensitively. Without this index every login
 * against the legacy table would scan it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX IF NOT EXISTS idx_users_email_lower ON users (lower(email))');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS idx_users_email_lower');
}
