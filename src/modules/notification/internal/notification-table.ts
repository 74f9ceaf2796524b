import type { Db, Knex } from '../../../platform/db.ts';
import type { NotificationRecord, NotificationStore, StatusChange } from './types.ts';

/** The columns a status change writes (the same names in the legacy table, since migrations/legacy/0005, and in the own one). */
const changeColumns = (c: StatusChange) => ({
  status: c.status,
  ...(c.statusReason !== undefined ? { status_reason: c.statusReason } : {}),
  ...(c.recipient !== undefined ? { recipient: c.recipient } : {}),
  ...(c.sentAt !== undefined ? { sent_at: c.sentAt } : {}),
});

/** newest first; legacy rows without created_at last */
const NEWEST = [{ column: 'created_at', order: 'desc' as const, nulls: 'last' as const }, { column: 'id', order: 'desc' as const }];

type SharedMethods = Omit<NotificationStore, 'kind' | 'insert' | 'upsert'>;

/**
 * What both notification stores do with the same SQL; only the row → record mapping differs (the legacy
 * table has nullable subject, status and timestamps). Inserts differ too (the legacy foreign key to users).
 */
export function notificationTable<R>(table: (db: Db) => Knex.QueryBuilder, toRecord: (row: R) => NotificationRecord): SharedMethods {
  const one = (row: R | undefined) => (row ? toRecord(row) : undefined);
  return {
    async findById(db, id) {
      return one((await table(db).where({ id }).first()) as R | undefined);
    },
    async lockById(db, id) {
      return one((await table(db).where({ id }).forUpdate().first()) as R | undefined);
    },
    async transition(db, id, from, change) {
      const [row] = (await table(db)
        .where({ id })
        .whereIn('status', [...from])
        .update({ ...changeColumns(change), updated_at: new Date() })
        .returning('*')) as R[];
      return one(row);
    },
    async touch(db, id) {
      await table(db).where({ id }).update({ updated_at: new Date() });
    },
    async listForUser(db, userId, page) {
      const [rows, [{ n }]] = await Promise.all([
        table(db).where({ user_id: userId }).orderBy(NEWEST).limit(page.limit).offset(page.offset),
        table(db).where({ user_id: userId }).count({ n: '*' }) as unknown as Promise<[{ n: string }]>,
      ]);
      return { items: (rows as R[]).map(toRecord), total: Number(n) };
    },
    async listParkedForUser(db, userId) {
      return ((await table(db).where({ user_id: userId, status: 'parked' }).orderBy('created_at')) as R[]).map(toRecord);
    },
    async listStale(db, status, before, limit) {
      const rows = await table(db).where({ status }).whereNotNull('event_id').where('updated_at', '<', before).orderBy('updated_at').limit(limit);
      return (rows as R[]).map(toRecord);
    },
    async listAfter(db, afterId, limit) {
      const q = table(db).orderBy('id').limit(limit);
      if (afterId) q.where('id', '>', afterId);
      return ((await q) as R[]).map(toRecord);
    },
    async count(db) {
      const [{ n }] = (await table(db).count({ n: '*' })) as [{ n: string }];
      return Number(n);
    },
  };
}
