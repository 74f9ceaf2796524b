import type { Db } from '../../../platform/db.ts';

/**
 * parked: no email address known for the user yet (waits for user.created / user.updated);
 * pending: queued for delivery (retries keep it pending); sent | failed: final;
 * skipped: final without delivery (opted out, or no address arrived in time).
 */
export const NOTIFICATION_STATUSES = ['parked', 'pending', 'sent', 'failed', 'skipped'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];
export const FINAL_STATUSES: readonly NotificationStatus[] = ['sent', 'failed', 'skipped'];

export interface NotificationRecord {
  id: string;
  userId: string;
  /** the notification type (template name), e.g. booking_confirmed */
  type: string;
  channel: string;
  /** the email address it goes to; null while parked */
  recipient: string | null;
  subject: string;
  message: string;
  status: NotificationStatus;
  statusReason: string | null;
  eventId: string | null;
  eventType: string | null;
  sentAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewNotification = Omit<NotificationRecord, 'sentAt' | 'createdAt' | 'updatedAt'> & { createdAt?: Date };

export interface Page {
  limit: number;
  offset: number;
}

/** What may change on a notification after it was created. */
export interface StatusChange {
  status: NotificationStatus;
  statusReason?: string | null;
  recipient?: string | null;
  sentAt?: Date | null;
}

/**
 * Where notifications live: the legacy shared `notifications` table or the notification schema's own.
 * Both pass test/modules/notification/notification-store.contract.ts. Every method takes the pool or an
 * open transaction, so a status change, its delivery-log row and its outbox event commit together.
 */
export interface NotificationStore {
  readonly kind: 'legacy' | 'own';
  /** insert unless a notification with this id exists; `created` says which happened */
  insert(db: Db, n: NewNotification): Promise<{ record: NotificationRecord; created: boolean }>;
  findById(db: Db, id: string): Promise<NotificationRecord | undefined>;
  /** the row, locked FOR UPDATE until the transaction ends */
  lockById(db: Db, id: string): Promise<NotificationRecord | undefined>;
  /** move a notification whose status is one of `from` (undefined when it is not, or does not exist) */
  transition(db: Db, id: string, from: readonly NotificationStatus[], change: StatusChange): Promise<NotificationRecord | undefined>;
  /** bump updated_at (a delivery attempt happened) */
  touch(db: Db, id: string): Promise<void>;
  /** the user's notifications, newest first */
  listForUser(db: Db, userId: string, page: Page): Promise<{ items: NotificationRecord[]; total: number }>;
  listParkedForUser(db: Db, userId: string): Promise<NotificationRecord[]>;
  /** notifications this module created (event_id set) in `status`, unchanged since `before`, oldest first */
  listStale(db: Db, status: 'pending' | 'parked', before: Date, limit: number): Promise<NotificationRecord[]>;
  /** keyset page by id, for backfill and reconciliation */
  listAfter(db: Db, afterId: string | null, limit: number): Promise<NotificationRecord[]>;
  /** insert or overwrite a whole row with the same id (dual-write, backfill, repair) */
  upsert(db: Db, n: NotificationRecord): Promise<void>;
  count(db: Db): Promise<number>;
}
