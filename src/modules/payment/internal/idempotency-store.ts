import { randomUUID } from 'node:crypto';
import type { Db, Knex } from '../../../platform/db.ts';
import { IdempotencyKeyInProgressError, IdempotencyKeyReusedError } from './errors.ts';

/**
 * Recovery points (Brandur Leach, "Implementing Stripe-like Idempotency Keys in Postgres"): each names
 * the last atomic phase that committed, so a request that died can be resumed from there.
 *  - started: the key is recorded, nothing else happened
 *  - payment_created: the pending payment exists (and payment.initiated is in the outbox); the charge
 *    may or may not have been sent — sending it again is safe, the gateway dedupes on its own key
 *  - finished: the response is stored; every later request with the key gets it
 */
export type RecoveryPoint = 'started' | 'payment_created' | 'finished';

export interface IdempotencyKeyRecord {
  id: string;
  userId: string;
  key: string;
  requestParams: Record<string, unknown>;
  fingerprint: string;
  recoveryPoint: RecoveryPoint;
  paymentId: string | null;
  lockedAt: Date | null;
  responseCode: number | null;
  responseBody: Record<string, unknown> | null;
  createdAt: Date;
}

interface Row {
  id: string;
  user_id: string;
  idempotency_key: string;
  request_params: Record<string, unknown>;
  request_fingerprint: string;
  recovery_point: RecoveryPoint;
  payment_id: string | null;
  locked_at: Date | null;
  response_code: number | null;
  response_body: Record<string, unknown> | null;
  created_at: Date;
}

const toRecord = (r: Row): IdempotencyKeyRecord => ({
  id: r.id,
  userId: r.user_id,
  key: r.idempotency_key,
  requestParams: r.request_params,
  fingerprint: r.request_fingerprint,
  recoveryPoint: r.recovery_point,
  paymentId: r.payment_id,
  lockedAt: r.locked_at,
  responseCode: r.response_code,
  responseBody: r.response_body,
  createdAt: r.created_at,
});

export type BeginOutcome =
  /** first request with the key: it is ours (locked) */
  | { kind: 'new'; record: IdempotencyKeyRecord }
  /** an earlier request with the key stopped before finishing and its lock is free or stale: ours now */
  | { kind: 'resume'; record: IdempotencyKeyRecord }
  /** finished earlier: answer with the stored response */
  | { kind: 'replay'; record: IdempotencyKeyRecord };

export interface BeginRequest {
  userId: string;
  key: string;
  method: string;
  path: string;
  params: Record<string, unknown>;
  fingerprint: string;
}

export interface IdempotencyStoreOptions {
  schema: string;
  ttlSeconds: number;
  lockTimeoutMs: number;
}

/** payments.idempotency_keys: keys scoped per user; Postgres alone decides who owns a key. */
export class IdempotencyStore {
  private readonly o: IdempotencyStoreOptions;

  constructor(options: IdempotencyStoreOptions) {
    this.o = options;
  }

  private keys(db: Db) {
    return db.withSchema(this.o.schema).table('idempotency_keys');
  }

  /**
   * Phase 1, one transaction: forget the key if it expired, insert it (ON CONFLICT DO NOTHING — of
   * concurrent first requests exactly one inserts), else lock the existing row and decide: another body
   * → 422; finished → replay; locked less than lockTimeout ago → 409 in progress; otherwise take the lock
   * and resume from the recovery point.
   */
  async begin(db: Knex, req: BeginRequest): Promise<BeginOutcome> {
    for (let attempt = 0; ; attempt++) {
      const outcome = await db.transaction(async (trx) => {
        await this.keys(trx)
          .where({ user_id: req.userId, idempotency_key: req.key })
          .whereRaw(`created_at <= now() - make_interval(secs => ?)`, [this.o.ttlSeconds])
          .delete();
        const [inserted] = (await this.keys(trx)
          .insert({
            id: randomUUID(),
            user_id: req.userId,
            idempotency_key: req.key,
            request_method: req.method,
            request_path: req.path,
            request_params: req.params,
            request_fingerprint: req.fingerprint,
            recovery_point: 'started',
            locked_at: trx.fn.now(),
            last_run_at: trx.fn.now(),
          })
          .onConflict(['user_id', 'idempotency_key'])
          .ignore()
          .returning('*')) as Row[];
        if (inserted) return { kind: 'new' as const, record: toRecord(inserted) };
        const existing = (await this.keys(trx)
          .where({ user_id: req.userId, idempotency_key: req.key })
          .forUpdate()
          .first('*', trx.raw(`(locked_at IS NOT NULL AND locked_at > now() - make_interval(secs => ?)) AS lock_held`, [this.o.lockTimeoutMs / 1000]))) as
          | (Row & { lock_held: boolean })
          | undefined;
        if (!existing) return undefined; // deleted between our insert and select: go round again
        if (existing.request_fingerprint !== req.fingerprint) throw new IdempotencyKeyReusedError();
        if (existing.recovery_point === 'finished') return { kind: 'replay' as const, record: toRecord(existing) };
        if (existing.lock_held) throw new IdempotencyKeyInProgressError(1);
        const [locked] = (await this.keys(trx)
          .where({ id: existing.id })
          .update({ locked_at: trx.fn.now(), last_run_at: trx.fn.now() })
          .returning('*')) as Row[];
        return { kind: 'resume' as const, record: toRecord(locked!) };
      });
      if (outcome) return outcome;
      if (attempt >= 3) throw new IdempotencyKeyInProgressError(1);
    }
  }

  /** the key passed a recovery point (inside that phase's transaction) */
  async advance(trx: Knex.Transaction, id: string, point: Exclude<RecoveryPoint, 'finished'>, patch: { paymentId?: string } = {}): Promise<void> {
    await this.keys(trx)
      .where({ id })
      .update({ recovery_point: point, ...(patch.paymentId ? { payment_id: patch.paymentId } : {}) });
  }

  /** store the response and release the key (inside the last phase's transaction) */
  async finish(trx: Db, id: string, code: number, body: Record<string, unknown>): Promise<void> {
    await this.keys(trx).where({ id }).update({ recovery_point: 'finished', response_code: code, response_body: body, locked_at: null });
  }

  /** release the lock without finishing: the next request with the key resumes at once */
  async unlock(db: Db, id: string): Promise<void> {
    await this.keys(db).where({ id }).update({ locked_at: null });
  }

  /** a request refused before it changed anything leaves no trace: the key may be used again */
  async remove(db: Db, id: string): Promise<void> {
    await this.keys(db).where({ id, recovery_point: 'started' }).delete();
  }

  /**
   * For a consumer handler about to settle a payment: lock the key row that created it and say whether a
   * request holds it right now. While the row lock lasts, no request can take the key over.
   */
  async lockForPayment(trx: Knex.Transaction, paymentId: string): Promise<{ record: IdempotencyKeyRecord; busy: boolean } | undefined> {
    const row = (await this.keys(trx)
      .where({ payment_id: paymentId })
      .forUpdate()
      .first('*', trx.raw(`(locked_at IS NOT NULL AND locked_at > now() - make_interval(secs => ?)) AS lock_held`, [this.o.lockTimeoutMs / 1000]))) as
      | (Row & { lock_held: boolean })
      | undefined;
    return row ? { record: toRecord(row), busy: row.lock_held } : undefined;
  }

  /** when a key stops being replayable (created_at + TTL) */
  expiresAt(record: IdempotencyKeyRecord): Date {
    return new Date(record.createdAt.getTime() + this.o.ttlSeconds * 1000);
  }
}
