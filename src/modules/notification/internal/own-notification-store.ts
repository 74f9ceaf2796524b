import type { Db } from '../../../platform/db.ts';
import { notificationStoreOver } from './notification-store-over.ts';
import type { NotificationStore } from './notification-store.ts';
import type { NotificationRecord, NotificationStatus } from './types.ts';

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

/** notifications.notifications — the module's own table (status is checked, everything NOT NULL that the legacy table leaves open). */
export function createOwnNotificationStore(schema = 'notifications'): NotificationStore {
  return notificationStoreOver<Row>({
    table: (db: Db) => db.withSchema(schema).table<Row>('notifications'),
    toRecord,
    toRow,
    shownStatus: 'status',
  });
}
