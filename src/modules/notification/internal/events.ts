import { z } from 'zod';
import { defineEvent } from '../../../platform/events/envelope.ts';

/** notification.sent v1.0 (seed 002 §8.4.2) */
export const notificationSentV1 = defineEvent(
  'notification.sent',
  '1.0',
  z.object({
    notification_id: z.uuid(),
    user_id: z.uuid(),
    type: z.string(),
    channel: z.string(),
    status: z.literal('sent'),
    sent_at: z.iso.datetime(),
  }),
);

/** notification.failed v1.0 (seed 002 §8.4.2): delivery given up (permanent failure or retries exhausted) */
export const notificationFailedV1 = defineEvent(
  'notification.failed',
  '1.0',
  z.object({
    notification_id: z.uuid(),
    user_id: z.uuid(),
    type: z.string(),
    channel: z.string(),
    error: z.string(),
    retry_count: z.number().int().nonnegative(),
  }),
);
