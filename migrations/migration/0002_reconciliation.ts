import type { Knex } from 'knex';

/**
 * Reconciliation runs and what they found (issue 9). One run compares one aggregate of one module, legacy
 * against own, through its mapping; a `boxoffice reconcile` invocation makes one run per aggregate and
 * gives them the same `invocation`.
 *  - counts: findings per kind as detected (missing_in_own, missing_in_legacy, fields, orphan);
 *  - remaining: per kind after repair (equal to counts when nothing was repaired) — what is still different;
 *  - hwm: the high-water mark an incremental run compared from (rows changed at or after it).
 * Findings keep both documents (or the differing fields with both values) and, when repaired, the target
 * side's document before and after.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE reconciliation_runs (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      invocation UUID NOT NULL,
      module TEXT NOT NULL,
      aggregate TEXT NOT NULL,
      mode TEXT NOT NULL CHECK (mode IN ('full', 'incremental')),
      repair TEXT NOT NULL DEFAULT 'none' CHECK (repair IN ('none', 'dry_run', 'apply')),
      direction TEXT CHECK (direction IN ('to_own', 'to_legacy')),
      phase TEXT,
      trigger TEXT NOT NULL DEFAULT 'cli',
      status TEXT NOT NULL CHECK (status IN ('running', 'clean', 'drift', 'error')),
      started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      finished_at TIMESTAMPTZ,
      hwm TIMESTAMPTZ,
      rows_compared BIGINT NOT NULL DEFAULT 0,
      rows_per_second DOUBLE PRECISION,
      segments_compared INTEGER NOT NULL DEFAULT 0,
      counts JSONB NOT NULL DEFAULT '{}',
      remaining JSONB NOT NULL DEFAULT '{}',
      error TEXT
    );
    CREATE INDEX reconciliation_runs_module_idx ON reconciliation_runs (module, aggregate, id DESC);

    CREATE TABLE reconciliation_findings (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      run_id BIGINT NOT NULL REFERENCES reconciliation_runs(id) ON DELETE CASCADE,
      key UUID NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('missing_in_own', 'missing_in_legacy', 'fields', 'orphan')),
      fields JSONB NOT NULL DEFAULT '[]',
      legacy JSONB,
      own JSONB,
      reason TEXT,
      repair TEXT NOT NULL DEFAULT 'none' CHECK (repair IN ('none', 'would_insert', 'would_update', 'would_delete', 'inserted', 'updated', 'deleted', 'failed', 'skipped')),
      before JSONB,
      after JSONB,
      still_different BOOLEAN,
      detected_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX reconciliation_findings_run_idx ON reconciliation_findings (run_id, id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS reconciliation_findings, reconciliation_runs');
}
