import type { Knex } from 'knex';

/**
 * DDL of the per-module outbox table, version 1. Migrations call this; never change it in place —
 * add a V2 and a migration that alters the table instead.
 */
export async function createOutboxTableV1(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE outbox (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id UUID NOT NULL UNIQUE,
      event_type TEXT NOT NULL,
      routing_key TEXT NOT NULL,
      envelope JSONB NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      published_at TIMESTAMPTZ,
      attempts INTEGER NOT NULL DEFAULT 0,
      last_error TEXT
    );
    CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;
  `);
}

/** DDL of the per-module inbox table (consumed event ids, written with the handler's effect), version 1. */
export async function createInboxTableV1(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE inbox (
      event_id UUID PRIMARY KEY,
      event_type TEXT NOT NULL,
      handled_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
  `);
}

/** The channel a schema's outbox trigger notifies on; the relay LISTENs to it. */
export function outboxChannel(schema: string): string {
  return `outbox_${schema}`;
}

/**
 * A statement-level trigger that NOTIFYs `outbox_<schema>` when rows are inserted into the outbox (of the
 * schema the migration runs in), so the relay wakes up at commit instead of at its next poll. NOTIFY is
 * transactional: a rolled-back insert wakes nobody. Without the trigger the relay still polls.
 */
export async function createOutboxNotifyTriggerV1(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('outbox_' || TG_TABLE_SCHEMA, '');
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
  `);
}
