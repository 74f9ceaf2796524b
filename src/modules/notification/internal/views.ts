import type { NotificationRecord } from './types.ts';

/** A notification as its user sees it over HTTP. */
export interface NotificationView {
  id: string;
  type: string;
  channel: string;
  subject: string;
  message: string;
  status: NotificationRecord['status'];
  status_reason: string | null;
  created_at: string;
  sent_at: string | null;
}

export const toNotificationView = (n: NotificationRecord): NotificationView => ({
  id: n.id,
  type: n.type,
  channel: n.channel,
  subject: n.subject,
  message: n.message,
  status: n.status,
  status_reason: n.statusReason,
  created_at: n.createdAt.toISOString(),
  sent_at: n.sentAt ? n.sentAt.toISOString() : null,
});
