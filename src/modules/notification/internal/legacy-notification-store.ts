import { sqlState, type Db } from '../../../platform/db.ts';
import { LegacyUserMissingError } from './errors.ts';
import { NOTIFICATION_STATUSES, type NewNotification, type NotificationRecord, type NotificationStatus, type NotificationStore } from './types.ts';
import { notificationTable } from './notification-table.ts';

/** The old shared table: nullable subject/status/timestamps, `message` for the body, user_id → users. */
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
  // the old default; the old service wrote pending | sent | failed
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
 * The legacy shared `notifications` table, as the old notification service used it (plus the nullable
 * delivery columns of migrations/legacy/0005). Its user_id still references the legacy users table: a
 * user who exists only in the auth schema cannot get a legacy notification (LegacyUserMissingError).
 */
export function createLegacyNotificationStore(legacySchema: string): NotificationStore {
  const table = (db: Db) => db.withSchema(legacySchema).table<LegacyRow>('notifications');
  return {
    kind: 'legacy',
    ...notificationTable(table, toRecord),
    async insert(db, n: NewNotification) {
      const now = n.createdAt ?? new Date();
      let inserted: LegacyRow[];
      try {
        inserted = (await table(db)
          .insert(toRow({ ...n, sentAt: null, createdAt: now, updatedAt: now }))
          .onConflict('id')
          .ignore()
          .returning('*')) as LegacyRow[];
      } catch (err) {
        if (sqlState(err) === '23503') throw new LegacyUserMissingError(n.userId);
        throw err;
      }
      if (inserted[0]) return { record: toRecord(inserted[0]), created: true };
      const existing = (await table(db).where({ id: n.id }).first()) as LegacyRow;
      return { record: toRecord(existing), created: false };
    },
    async upsert(db, n) {
      try {
        await table(db).insert(toRow(n)).onConflict('id').merge();
      } catch (err) {
        if (sqlState(err) === '23503') throw new LegacyUserMissingError(n.userId);
        throw err;
      }
    },
  };
}
