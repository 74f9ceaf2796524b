import type { Db, Knex } from '../../../platform/db.ts';
import type { NotificationStore } from './notification-store.ts';
import type { NotificationRecord, StatusChange } from './types.ts';

/** One side's notifications table and how its rows read as records. */
export interface NotificationTable<R> {
  table: (db: Db) => Knex.QueryBuilder;
  toRecord: (row: R) => NotificationRecord;
  toRow: (n: NotificationRecord) => R;
  /**
   * SQL of the status as the store shows it: the plain column on the own table; on the legacy one a
   * NULL or unknown status the old system left shows as pending, so moving "from pending" must find it.
   */
  shownStatus: string;
}

/** The columns a status change writes (the same names in the legacy table, since migrations/legacy/0005, and in the own one). */
const changeColumns = (c: StatusChange) => ({
  status: c.status,
  ...(c.statusReason !== undefined ? { status_reason: c.statusReason } : {}),
  ...(c.recipient !== undefined ? { recipient: c.recipient } : {}),
  ...(c.sentAt !== undefined ? { sent_at: c.sentAt } : {}),
});

// Every order ends on id, so both stores list equal data in the same order (shadow reads compare lists).
// A legacy row without created_at shows as created at the epoch: last of the newest-first, first of the oldest-first.
const NEWEST = [{ column: 'created_at', order: 'desc' as const, nulls: 'last' as const }, { column: 'id', order: 'desc' as const }];
const OLDEST = [{ column: 'created_at', order: 'asc' as const, nulls: 'first' as const }, { column: 'id', order: 'asc' as const }];

/**
 * The notification store over one side's table: both stores run the same SQL; what differs is how a row
 * reads (the legacy table has nullable subject, status, channel and timestamps).
 */
export function notificationStoreOver<R>({ table, toRecord, toRow, shownStatus }: NotificationTable<R>): NotificationStore {
  const one = (row: R | undefined) => (row ? toRecord(row) : undefined);
  return {
    async insert(db, n) {
      const now = n.createdAt ?? new Date();
      const inserted = (await table(db)
        .insert(toRow({ ...n, sentAt: null, createdAt: now, updatedAt: now }))
        .onConflict('id')
        .ignore()
        .returning('*')) as R[];
      if (inserted[0]) return { record: toRecord(inserted[0]), created: true };
      const existing = (await table(db).where({ id: n.id }).first()) as R;
      return { record: toRecord(existing), created: false };
    },
    async findById(db, id) {
      return one((await table(db).where({ id }).first()) as R | undefined);
    },
    async lockById(db, id) {
      return one((await table(db).where({ id }).forUpdate().first()) as R | undefined);
    },
    async transition(db, id, from, change) {
      if (from.length === 0) return undefined;
      const [row] = (await table(db)
        .where({ id })
        .whereRaw(`(${shownStatus}) IN (${from.map(() => '?').join(', ')})`, [...from])
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
      return ((await table(db).where({ user_id: userId, status: 'parked' }).orderBy(OLDEST)) as R[]).map(toRecord);
    },
    async listStale(db, status, before, limit) {
      // only rows this module wrote (event_id set), which always have updated_at: the partial index serves it
      const rows = await table(db).where({ status }).whereNotNull('event_id').where('updated_at', '<', before).orderBy(['updated_at', 'id']).limit(limit);
      return (rows as R[]).map(toRecord);
    },
  };
}
