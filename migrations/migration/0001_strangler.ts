import type { Knex } from 'knex';
import type { MigrationContext } from '../../src/platform/migrate.ts';

/**
 * The strangler machinery's own tables (ADR 0050, 0051). Runs as the migration role, which owns them.
 *
 *  - dual_write_leases: one row per process (and module) that is in a dual-write phase right now. The
 *    capture triggers on the mapped tables copy a write to the other side only while a live lease exists,
 *    so every process writes both sides as soon as ANY process has turned dual-write on, whatever its own
 *    flags say yet. `mode` says how: `inline` (same database, same transaction) or `queue`.
 *  - dual_write_queue: aggregates whose copy to the other side is owed (module in its own database, or a
 *    copy that failed), retried with back-off; `dual_write_failures` is the part that has failed at least once.
 *  - backfill_runs: one row per backfill of an aggregate (legacy → own, or back); backfill_parts: its key
 *    ranges (one per parallel worker), each with the checkpoint (last_key) a crashed run resumes from.
 *  - shadow_mismatches / shadow_read_stats: what shadow reads found, and how many they compared.
 *  - cutover_log: every phase change made through `boxoffice cutover` (who, when, what, guards, reason),
 *    and every legacy table retired into (or restored from) the legacy_archive schema.
 *  - sync_objects: which version of each aggregate's generated sync functions and triggers is installed.
 *
 * The module roles own the generated sync functions (they write both their legacy tables and their own
 * schema), so they may create objects here and touch the lease and queue tables.
 */
export async function up(knex: Knex, ctx: MigrationContext): Promise<void> {
  await knex.raw(`
    CREATE TABLE dual_write_leases (
      module TEXT NOT NULL,
      instance TEXT NOT NULL,
      mode TEXT NOT NULL CHECK (mode IN ('inline', 'queue')),
      phase TEXT NOT NULL,
      acquired_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      expires_at TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (module, instance)
    );

    CREATE SEQUENCE dual_write_queue_seq;
    CREATE TABLE dual_write_queue (
      module TEXT NOT NULL,
      aggregate TEXT NOT NULL,
      key UUID NOT NULL,
      direction TEXT NOT NULL CHECK (direction IN ('to_own', 'to_legacy')),
      seq BIGINT NOT NULL DEFAULT nextval('dual_write_queue_seq'),
      first_queued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      queued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      claimed_until TIMESTAMPTZ,
      last_error TEXT,
      PRIMARY KEY (module, aggregate, key, direction)
    );
    CREATE INDEX dual_write_queue_due_idx ON dual_write_queue (module, next_attempt_at);
    CREATE VIEW dual_write_failures AS SELECT * FROM dual_write_queue WHERE attempts > 0;

    CREATE TABLE backfill_runs (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      module TEXT NOT NULL,
      aggregate TEXT NOT NULL,
      direction TEXT NOT NULL DEFAULT 'to_own' CHECK (direction IN ('to_own', 'to_legacy')),
      status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed')),
      started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      finished_at TIMESTAMPTZ,
      -- the total, once finished (while it runs: the sum over its parts)
      rows_copied BIGINT NOT NULL DEFAULT 0,
      parts INTEGER NOT NULL DEFAULT 1,
      batch_size INTEGER NOT NULL,
      rate INTEGER,
      error TEXT,
      host TEXT
    );
    CREATE INDEX backfill_runs_module_idx ON backfill_runs (module, aggregate, id DESC);
    CREATE UNIQUE INDEX backfill_runs_one_running ON backfill_runs (module, aggregate, direction) WHERE status = 'running';
    CREATE TABLE backfill_parts (
      run_id BIGINT NOT NULL REFERENCES backfill_runs(id) ON DELETE CASCADE,
      part INTEGER NOT NULL,
      range_start UUID,
      range_end UUID,
      last_key UUID,
      rows_copied BIGINT NOT NULL DEFAULT 0,
      finished BOOLEAN NOT NULL DEFAULT false,
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (run_id, part)
    );

    CREATE TABLE shadow_mismatches (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      module TEXT NOT NULL,
      aggregate TEXT NOT NULL,
      key TEXT NOT NULL,
      method TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('fields', 'missing_in_own', 'missing_in_legacy', 'result')),
      fields JSONB NOT NULL DEFAULT '[]',
      observed_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX shadow_mismatches_module_idx ON shadow_mismatches (module, observed_at DESC);

    CREATE TABLE shadow_read_stats (
      module TEXT NOT NULL,
      bucket TIMESTAMPTZ NOT NULL,
      compared BIGINT NOT NULL DEFAULT 0,
      mismatched BIGINT NOT NULL DEFAULT 0,
      errors BIGINT NOT NULL DEFAULT 0,
      timeouts BIGINT NOT NULL DEFAULT 0,
      PRIMARY KEY (module, bucket)
    );

    CREATE TABLE cutover_log (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      at TIMESTAMPTZ NOT NULL DEFAULT now(),
      actor TEXT NOT NULL,
      action TEXT NOT NULL CHECK (action IN ('advance', 'rollback', 'retire', 'restore')),
      step TEXT NOT NULL,
      module TEXT,
      from_phase TEXT,
      to_phase TEXT,
      flags JSONB NOT NULL DEFAULT '{}',
      guards JSONB NOT NULL DEFAULT '[]',
      forced BOOLEAN NOT NULL DEFAULT false,
      reason TEXT
    );
    CREATE INDEX cutover_log_module_idx ON cutover_log (module, at DESC);

    CREATE TABLE sync_objects (
      module TEXT NOT NULL,
      aggregate TEXT NOT NULL,
      version TEXT NOT NULL,
      installed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      PRIMARY KEY (module, aggregate)
    );
  `);
  const modules = ['auth', 'movies', 'bookings', 'payments', 'notifications'] as const;
  for (const m of modules) {
    const role = `"${ctx.role(m)}"`;
    await knex.raw(`
      GRANT USAGE, CREATE ON SCHEMA "${ctx.schema}" TO ${role};
      GRANT SELECT ON dual_write_leases TO ${role};
      GRANT SELECT, INSERT, UPDATE ON dual_write_queue TO ${role};
      GRANT USAGE ON SEQUENCE dual_write_queue_seq TO ${role};
    `);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS sync_objects, cutover_log, shadow_read_stats, shadow_mismatches, backfill_parts, backfill_runs;
    DROP VIEW IF EXISTS dual_write_failures;
    DROP TABLE IF EXISTS dual_write_queue, dual_write_leases;
    DROP SEQUENCE IF EXISTS dual_write_queue_seq;
  `);
}
