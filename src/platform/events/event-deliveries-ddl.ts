import type { Knex } from 'knex';

/**
 * DDL of a consuming module's `event_deliveries` table, version 1 — its queue when events travel through
 * Postgres instead of RabbitMQ (EVENTS_TRANSPORT=postgres, ADR 0077). One row per event for this
 * consumer: the relay inserts it (a duplicate publish hits the primary key and is ignored), the dispatcher
 * deletes it in the transaction that writes the inbox row and the handler's effect. A failing handler
 * pushes `next_attempt_at` back; after the last attempt the row stays with `dead_lettered_at` set — the
 * dead-letter queue of this transport. Migrations call this; never change it in place.
 */
export async function createEventDeliveriesTableV1(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE event_deliveries (
      event_id UUID PRIMARY KEY,
      event_type TEXT NOT NULL,
      routing_key TEXT NOT NULL,
      envelope JSONB NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      last_error TEXT,
      dead_lettered_at TIMESTAMPTZ
    );
    CREATE INDEX event_deliveries_due_idx ON event_deliveries (next_attempt_at) WHERE dead_lettered_at IS NULL;
  `);
}
