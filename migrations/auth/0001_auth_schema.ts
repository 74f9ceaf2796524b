import type { Knex } from 'knex';
import { createOutboxTableV1 } from '../../src/platform/events/outbox-ddl.ts';

/**
 * The auth module's own schema (seed 002 §8.2): users (same ids as the legacy table, so dual-write and
 * backfill copy rows 1:1), refresh tokens, audit log, outbox. Refresh tokens and the audit log are new
 * with this module and have no legacy counterpart: they live here whichever user store is selected, and
 * hold user ids without a foreign key (the user may still live in the legacy table).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE users (
      id UUID PRIMARY KEY,
      email TEXT NOT NULL,
      full_name TEXT,
      password_hash TEXT NOT NULL,
      role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
      is_active BOOLEAN NOT NULL DEFAULT true,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

    CREATE TABLE refresh_tokens (
      id UUID PRIMARY KEY,
      user_id UUID NOT NULL,
      family_id UUID NOT NULL,
      token_hash BYTEA NOT NULL UNIQUE,
      issued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      expires_at TIMESTAMPTZ NOT NULL,
      rotated_at TIMESTAMPTZ,
      replaced_by UUID,
      revoked_at TIMESTAMPTZ,
      revoked_reason TEXT
    );
    CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
    CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
    CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);

    CREATE TABLE audit_log (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      occurred_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      action TEXT NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
      user_id UUID,
      email TEXT,
      ip TEXT,
      user_agent TEXT,
      correlation_id TEXT,
      detail JSONB NOT NULL DEFAULT '{}'
    );
    CREATE INDEX audit_log_occurred_idx ON audit_log (occurred_at);
    CREATE INDEX audit_log_user_idx ON audit_log (user_id);
  `);
  await createOutboxTableV1(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS outbox, audit_log, refresh_tokens, users');
}
