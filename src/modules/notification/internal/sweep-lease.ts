import type { Knex } from '../../../platform/db.ts';
import type { Redis } from '../../../platform/redis.ts';

/**
 * "One process per interval": whoever takes the lease sweeps, the others skip until it runs out. Never
 * released early — a lease is the interval itself. In Redis (SET NX PX), or with BACKEND=postgres in the
 * notification schema's `sweep_leases` (ADR 0078): one upsert that only replaces an expired holder.
 */
export type SweepLease = (holder: string, ms: number) => Promise<boolean>;

export function redisSweepLease(redis: Redis, key: string): SweepLease {
  return async (holder, ms) => (await redis.set(key, holder, { condition: 'NX', expiration: { type: 'PX', value: ms } })) === 'OK';
}

export function postgresSweepLease(db: Knex, name: string): SweepLease {
  return async (holder, ms) => {
    const { rows } = await db.raw<{ rows: unknown[] }>(
      `INSERT INTO sweep_leases (name, holder, expires_at) VALUES (?, ?, clock_timestamp() + make_interval(secs => ?))
       ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
       WHERE sweep_leases.expires_at <= clock_timestamp()
       RETURNING name`,
      [name, holder, ms / 1000],
    );
    return rows.length === 1;
  };
}
