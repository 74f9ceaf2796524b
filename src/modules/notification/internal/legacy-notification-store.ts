import type { Db } from '../../../platform/db.ts';
import { legacyShownStatus } from './notification-mapping.ts';
import { notificationStoreOver } from './notification-store-over.ts';
import type { NotificationStore } from './notification-store.ts';
import { NOTIFICATION_STATUSES, type NotificationRecord, type NotificationStatus } from './types.ts';

/** The old shared table: nullable subject/status/timestamps, `message` for the body. */
interface LegacyRow {
  id: string;
  user_id: string;
  type: string;
  subject: string | null;
  message: string;
  status: string | null;
  sent_at: Date | null;
  created_at: Date | null;
  // added by migrations/legacy/0005 (null on rows the old system wrote)
  channel: string | null;
  recipient: string | null;
  status_reason: string | null;
  event_id: string | null;
  event_type: string | null;
  updated_at: Date | null;
}

const EPOCH = new Date(0);
const isStatus = (s: string | null): s is NotificationStatus => (NOTIFICATION_STATUSES as readonly (string | null)[]).includes(s);

const toRecord = (r: LegacyRow): NotificationRecord => ({
  id: r.id,
  userId: r.user_id,
  type: r.type,
  channel: r.channel ?? 'email',
  recipient: r.recipient,
  subject: r.subject ?? '',
  message: r.message,
  // the old service wrote pending | sent | failed, and the column's default was pending
  status: isStatus(r.status) ? r.status : 'pending',
  statusReason: r.status_reason,
  eventId: r.event_id,
  eventType: r.event_type,
  sentAt: r.sent_at,
  createdAt: r.created_at ?? EPOCH,
  updatedAt: r.updated_at ?? r.sent_at ?? r.created_at ?? EPOCH,
});

const toRow = (n: NotificationRecord): LegacyRow => ({
  id: n.id,
  user_id: n.userId,
  type: n.type,
  subject: n.subject,
  message: n.message,
  status: n.status,
  sent_at: n.sentAt,
  created_at: n.createdAt,
  channel: n.channel,
  recipient: n.recipient,
  status_reason: n.statusReason,
  event_id: n.eventId,
  event_type: n.eventType,
  updated_at: n.updatedAt,
});

/**
 * The legacy shared `notifications` table, as the old notification service used it, plus the delivery
 * columns of migrations/legacy/0005, which this store writes in full so the row holds everything the own
 * store keeps. Rows the old system wrote have NULL there and read as it showed them (toRecord). The
 * table's foreign key to the legacy users was dropped (migrations/legacy/0006): a user who exists only
 * in the auth schema gets legacy notifications like any other.
 */
export function createLegacyNotificationStore(legacySchema: string): NotificationStore {
  return notificationStoreOver<LegacyRow>({
    table: (db: Db) => db.withSchema(legacySchema).table<LegacyRow>('notifications'),
    toRecord,
    toRow,
    shownStatus: legacyShownStatus(),
  });
}
