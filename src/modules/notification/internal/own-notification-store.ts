import type { Db } from '../../../platform/db.ts';
import type { NewNotification, NotificationRecord, NotificationStatus, NotificationStore } from './types.ts';
import { notificationTable } from './notification-table.ts';

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

/** notifications.notifications — the module's own table. */
export function createOwnNotificationStore(schema = 'notifications'): NotificationStore {
  const table = (db: Db) => db.withSchema(schema).table<Row>('notifications');
  return {
    kind: 'own',
    ...notificationTable(table, toRecord),
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
    async upsert(db, n) {
      await table(db).insert(toRow(n)).onConflict('id').merge();
    },
  };
}
