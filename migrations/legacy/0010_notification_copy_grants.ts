import type { Knex } from 'knex';
import type { MigrationContext } from '../../src/platform/migrate.ts';

/**
 * The notification role may delete rows of the shared `notifications` table (ADR 0050). The generated
 * function that writes notifications into the legacy side runs as that role and mirrors a deletion made
 * on the own side: it holds a DELETE statement, and Postgres checks the privilege of a statement even
 * when it deletes nothing. Without it, every copy own → legacy (READ_NEW's dual-write, a repair) fails,
 * and in one database it fails the write it copies. The old grants (0001) gave SELECT, INSERT, UPDATE.
 */
export async function up(knex: Knex, ctx: MigrationContext): Promise<void> {
  await knex.raw(`GRANT DELETE ON "${ctx.legacySchema}".notifications TO "${ctx.role('notifications')}"`);
}

export async function down(knex: Knex, ctx: MigrationContext): Promise<void> {
  await knex.raw(`REVOKE DELETE ON "${ctx.legacySchema}".notifications FROM "${ctx.role('notifications')}"`);
}
