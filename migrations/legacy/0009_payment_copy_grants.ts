import type { Knex } from 'knex';
import type { MigrationContext } from '../../src/platform/migrate.ts';

/**
 * Added by boxoffice for the strangler migration of payment (ADR 0050). The generated functions that copy
 * payments into the shared `payments` table run as the payment role, and a copy deletes the legacy row
 * of a payment the payments schema no longer has (repair, or READ_NEW with the own schema as the write
 * primary). The old payment service never deleted payments, so its role was never granted DELETE.
 * Nothing else changes: no application code deletes payments.
 */
export async function up(knex: Knex, ctx: MigrationContext): Promise<void> {
  await knex.raw(`GRANT DELETE ON "${ctx.legacySchema}".payments TO "${ctx.role('payments')}"`);
}

export async function down(knex: Knex, ctx: MigrationContext): Promise<void> {
  await knex.raw(`REVOKE DELETE ON "${ctx.legacySchema}".payments FROM "${ctx.role('payments')}"`);
}
