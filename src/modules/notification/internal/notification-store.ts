import type { Db } from '../../../platform/db.ts';
import type { StoreMethods } from '../../../platform/mapping/store-routing.ts';
import type { NewNotification, NotificationRecord, NotificationStatus, Page, StatusChange } from './types.ts';

/**
 * Where notifications live. Two implementations: the legacy shared `notifications` table and the
 * notification schema's own table; both pass test/modules/notification/notification-store.contract.ts.
 * Every method takes the pool or an open transaction, so a status change, its delivery-log row and its
 * outbox event commit together. Copying notifications between the two (dual-write, backfill, repair) is
 * the mapping's job (notification-mapping.ts), not the store's.
 */
export interface NotificationStore {
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
}

/**
 * How the routing store may route each method (src/platform/mapping/store-routing.ts). listStale is a
 * plain read: the sweeper calls it outside a transaction and then changes each row on the write primary.
 */
export const NOTIFICATION_STORE_METHODS: StoreMethods<NotificationStore> = {
  insert: 'write',
  findById: { read: 'notifications' },
  lockById: 'lock',
  transition: 'write',
  touch: 'write',
  listForUser: { read: 'notifications' },
  listParkedForUser: { read: 'notifications' },
  listStale: { read: 'notifications' },
};
