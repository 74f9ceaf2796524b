import type { Db, Knex } from '../db.ts';

/** The SQL side of the relay: claim unpublished rows, mark them, measure the lag. */

export interface OutboxRow {
  id: string;
  event_id: string;
  event_type: string;
  routing_key: string;
  envelope: unknown;
  attempts: number;
}

export interface ClaimOptions {
  batchSize: number;
  /** event domains (`user`, `booking`, …) whose publishing is switched off: their rows stay put */
  disabledDomains: string[];
  /** rows that failed this many attempts are parked and no longer claimed */
  maxAttempts: number;
}

/**
 * Lock the oldest publishable rows. SKIP LOCKED: rows another relay holds are passed over, so several
 * relays share one outbox without publishing a row twice (while its transaction is open).
 */
export async function claimBatch(trx: Knex.Transaction, schema: string, options: ClaimOptions): Promise<OutboxRow[]> {
  const { rows } = await trx.raw<{ rows: OutboxRow[] }>(
    // id comes back as a string (pg's int8); ordering must be on the column itself, in index order
    `SELECT id, event_id, event_type, routing_key, envelope, attempts
       FROM ??.outbox
      WHERE published_at IS NULL
        AND attempts < ?
        AND NOT (split_part(event_type, '.', 1) = ANY(?::text[]))
      ORDER BY id
      LIMIT ?
      FOR UPDATE SKIP LOCKED`,
    [schema, options.maxAttempts, options.disabledDomains, options.batchSize],
  );
  return rows;
}

export async function markPublished(trx: Knex.Transaction, schema: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await trx.raw(`UPDATE ??.outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = ANY(?::bigint[])`, [
    schema,
    ids,
  ]);
}

export async function markFailed(trx: Knex.Transaction, schema: string, failures: { id: string; error: string }[]): Promise<void> {
  if (failures.length === 0) return;
  await trx.raw(
    `UPDATE ??.outbox o SET attempts = o.attempts + 1, last_error = f.error
       FROM unnest(?::bigint[], ?::text[]) AS f(id, error)
      WHERE o.id = f.id`,
    [schema, failures.map((f) => f.id), failures.map((f) => f.error.slice(0, 1_000))],
  );
}

/** How far behind an outbox is. Held rows (domain switched off) are counted apart: they wait on purpose. */
export interface OutboxLag {
  /** unpublished rows the relay should publish (includes parked ones) */
  pending: number;
  /** unpublished rows whose domain's publish flag is off */
  held: number;
  /** pending rows that exhausted their publish attempts */
  parked: number;
  /** age of the oldest pending row in seconds (0 when none) */
  oldestPendingAgeSeconds: number;
}

/**
 * The lag of one module's outbox. Cutover guards use it ("outbox lag below a bound"); the relay exports
 * it as gauges.
 */
export async function outboxLag(
  db: Db,
  schema: string,
  options: { disabledDomains?: string[]; maxAttempts?: number } = {},
): Promise<OutboxLag> {
  const { rows } = await db.raw<{ rows: { pending: string; held: string; parked: string; oldest: string | null }[] }>(
    `SELECT count(*) FILTER (WHERE NOT held) AS pending,
            count(*) FILTER (WHERE held) AS held,
            count(*) FILTER (WHERE NOT held AND attempts >= ?) AS parked,
            extract(epoch FROM now() - min(created_at) FILTER (WHERE NOT held)) AS oldest
       FROM (SELECT created_at, attempts, split_part(event_type, '.', 1) = ANY(?::text[]) AS held
               FROM ??.outbox WHERE published_at IS NULL) t`,
    [options.maxAttempts ?? 2_147_483_647, options.disabledDomains ?? [], schema],
  );
  const r = rows[0];
  return {
    pending: Number(r?.pending ?? 0),
    held: Number(r?.held ?? 0),
    parked: Number(r?.parked ?? 0),
    oldestPendingAgeSeconds: Math.max(0, Number(r?.oldest ?? 0)),
  };
}
