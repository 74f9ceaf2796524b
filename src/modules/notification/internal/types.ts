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
