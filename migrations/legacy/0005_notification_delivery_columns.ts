import type { Knex } from 'knex';

/**
 * Added by boxoffice for the notification module's legacy store (ADR 0040); additive only (nullable
 * columns, a small partial index), so anything still reading or writing the old table keeps working:
 *  - channel, recipient: where the notification goes (the old service looked the address up in users on
 *    every send; the module resolves it from user.* events instead);
 *  - status_reason, updated_at: why a notification is parked / skipped / failed, and when it last moved;
 *  - event_id, event_type: the domain event it answers. Rows the old system wrote have none, so the
 *    delivery sweeper (which only looks at rows with an event_id) never re-sends old mail.
 * The notification role's table-level grants (0001) already cover new columns.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE notifications ADD COLUMN IF NOT EXISTS channel VARCHAR(20);
    ALTER TABLE notifications ADD COLUMN IF NOT EXISTS recipient VARCHAR(320);
    ALTER TABLE notifications ADD COLUMN IF NOT EXISTS status_reason VARCHAR(500);
    ALTER TABLE notifications ADD COLUMN IF NOT EXISTS event_id UUID;
    ALTER TABLE notifications ADD COLUMN IF NOT EXISTS event_type VARCHAR(100);
    ALTER TABLE notifications ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP;
    CREATE INDEX IF NOT EXISTS idx_notifications_open ON notifications (status, updated_at)
      WHERE status IN ('parked', 'pending') AND event_id IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS idx_notifications_open;
    ALTER TABLE notifications DROP COLUMN IF EXISTS updated_at, DROP COLUMN IF EXISTS event_type,
      DROP COLUMN IF EXISTS event_id, DROP COLUMN IF EXISTS status_reason, DROP COLUMN IF EXISTS recipient,
      DROP COLUMN IF EXISTS channel;
  `);
}
