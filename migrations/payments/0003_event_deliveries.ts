import type { Knex } from 'knex';
import { createEventDeliveriesTableV1 } from '../../src/platform/events/event-deliveries-ddl.ts';

/** This consumer's queue when events travel through Postgres (EVENTS_TRANSPORT=postgres, ADR 0077). */
export async function up(knex: Knex): Promise<void> {
  await createEventDeliveriesTableV1(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS event_deliveries');
}
