import { sqlState, type Knex } from './db.ts';

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);

export interface RetryOptions {
  attempts?: number;
  baseDelayMs?: number;
  onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * Run `fn` in a transaction, running it again (with jittered back-off) when Postgres aborts it with a
 * serialization failure (40001) or a deadlock (40P01). Every other error propagates unchanged, and
 * after the last attempt the retryable one does too.
 */
export async function transactionWithRetry<T>(
  db: Knex,
  fn: (trx: Knex.Transaction) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  return withRetry(() => db.transaction(fn), options);
}

/**
 * Run `fn` again (with jittered back-off) while it fails with 40001 or 40P01. For a transaction of its
 * own, e.g. one statement on the pool (an implicit transaction); never for work inside a transaction
 * someone else opened, which such an error has aborted as a whole.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  const base = options.baseDelayMs ?? 5;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const state = sqlState(err);
      if (!state || !RETRYABLE.has(state) || attempt >= attempts) throw err;
      options.onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, base * 2 ** (attempt - 1) * (0.5 + Math.random())));
    }
  }
}

export const isRetryableTransactionError = (err: unknown): boolean => RETRYABLE.has(sqlState(err) ?? '');
