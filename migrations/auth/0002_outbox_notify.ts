import type { Knex } from 'knex';
import { createOutboxNotifyTriggerV1 } from '../../src/platform/events/outbox-ddl.ts';

/** Wake the outbox relay on insert (LISTEN/NOTIFY) instead of waiting for its next poll. */
export async function up(knex: Knex): Promise<void> {
  await createOutboxNotifyTriggerV1(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TRIGGER IF EXISTS outbox_notify ON outbox; DROP FUNCTION IF EXISTS outbox_notify()');
}
