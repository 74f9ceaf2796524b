import type { Db } from '../../../platform/db.ts';
import type { NewNotification, NotificationRecord, NotificationStatus, NotificationStore, StatusChange } from './types.ts';

interface Row {
  id: string;
  user_id: string;
  type: string;
  channel: string;
  recipient: string | null;
  subject: string;
  message: string;
  status: NotificationStatus;
  status_reason: string | null;
  event_id: string | null;
  event_type: string | null;
  sent_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const toRecord = (r: Row): NotificationRecord => ({
  id: r.id,
  userId: r.user_id,
  type: r.type,
  channel: r.channel,
  recipient: r.recipient,
  subject: r.subject,
  message: r.message,
  status: r.status,
  statusReason: r.status_reason,
  eventId: r.event_id,
  eventType: r.event_type,
  sentAt: r.sent_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toRow = (n: NotificationRecord): Row => ({
  id: n.id,
  user_id: n.userId,
  type: n.type,
  channel: n.channel,
  recipient: n.recipient,
  subject: n.subject,
  message: n.message,
  status: n.status,
  status_reason: n.statusReason,
  event_id: n.eventId,
  event_type: n.eventType,
  sent_at: n.sentAt,
  created_at: n.createdAt,
  updated_at: n.updatedAt,
});

const changeColumns = (c: StatusChange): Partial<Row> => ({
  status: c.status,
  ...(c.statusReason !== undefined ? { status_reason: c.statusReason } : {}),
  ...(c.recipient !== undefined ? { recipient: c.recipient } : {}),
  ...(c.sentAt !== undefined ? { sent_at: c.sentAt } : {}),
});

/** notifications.notifications — the module's own table. */
export function createOwnNotificationStore(schema = 'notifications'): NotificationStore {
  const table = (db: Db) => db.withSchema(schema).table<Row>('notifications');
  return {
    kind: 'own',
    async insert(db, n: NewNotification) {
      const now = n.createdAt ?? new Date();
      const inserted = (await table(db)
        .insert({ ...toRow({ ...n, sentAt: null, createdAt: now, updatedAt: now }) })
        .onConflict('id')
        .ignore()
        .returning('*')) as Row[];
      if (inserted[0]) return { record: toRecord(inserted[0]), created: true };
      const existing = (await table(db).where({ id: n.id }).first()) as Row;
      return { record: toRecord(existing), created: false };
    },
    async findById(db, id) {
      const row = (await table(db).where({ id }).first()) as Row | undefined;
      return row ? toRecord(row) : undefined;
    },
    async lockById(db, id) {
      const row = (await table(db).where({ id }).forUpdate().first()) as Row | undefined;
      return row ? toRecord(row) : undefined;
    },
    async transition(db, id, from, change) {
      const [row] = (await table(db)
        .where({ id })
        .whereIn('status', [...from])
        .update({ ...changeColumns(change), updated_at: new Date() })
        .returning('*')) as Row[];
      return row ? toRecord(row) : undefined;
    },
    async touch(db, id) {
      await table(db).where({ id }).update({ updated_at: new Date() });
    },
    async listForUser(db, userId, page) {
      const [rows, [{ n }]] = await Promise.all([
        table(db).where({ user_id: userId }).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(page.limit).offset(page.offset),
        table(db).where({ user_id: userId }).count({ n: '*' }) as unknown as Promise<[{ n: string }]>,
      ]);
      return { items: (rows as Row[]).map(toRecord), total: Number(n) };
    },
    async listParkedForUser(db, userId) {
      return ((await table(db).where({ user_id: userId, status: 'parked' }).orderBy('created_at')) as Row[]).map(toRecord);
    },
    async listStale(db, status, before, limit) {
      const rows = await table(db).where({ status }).whereNotNull('event_id').where('updated_at', '<', before).orderBy('updated_at').limit(limit);
      return (rows as Row[]).map(toRecord);
    },
    async listAfter(db, afterId, limit) {
      const q = table(db).orderBy('id').limit(limit);
      if (afterId) q.where('id', '>', afterId);
      return ((await q) as Row[]).map(toRecord);
    },
    async upsert(db, n) {
      await table(db).insert(toRow(n)).onConflict('id').merge();
    },
    async count(db) {
      const [{ n }] = (await table(db).count({ n: '*' })) as [{ n: string }];
      return Number(n);
    },
  };
}
