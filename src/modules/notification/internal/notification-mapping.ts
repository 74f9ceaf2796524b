import { EPOCH_SQL, f, type ModuleMapping } from '../../../platform/mapping/aggregate-mapping.ts';
import { NOTIFICATION_STATUSES } from './types.ts';

/**
 * The status of a legacy row as the legacy store shows it, in SQL (`alias` before the column, or none):
 * the old service wrote pending | sent | failed and the column defaulted to pending; NULL or anything
 * unknown reads as pending. The legacy store filters on the same expression.
 */
export const legacyShownStatus = (alias = ''): string =>
  `CASE WHEN ${alias}status IN (${NOTIFICATION_STATUSES.map((s) => `'${s}'`).join(', ')}) THEN ${alias}status ELSE 'pending' END`;

/**
 * Where notification's data lives on each side (ADR 0050). Notifications move: the old shared table has
 * every own column since migrations/legacy/0005 (channel, recipient, status_reason, event_id, event_type,
 * updated_at), NULL on the rows the old system wrote, so the legacy side reads those rows exactly as the
 * legacy store shows them (legacy-notification-store.ts) and nothing is left out of the comparison.
 *
 * Templates are among notification's aggregates, but nothing of them moves: the old service kept its
 * texts in code, so there is no legacy table to copy from or to. The templates in the notification
 * schema are new with the module and are read from there in every phase — also while the notifications
 * themselves are still written to the legacy table — so the schema already holds their only copy.
 */
export function createNotificationMapping(ownSchema = 'notifications'): ModuleMapping {
  return {
    module: 'notification',
    ownSchema,
    aggregates: [
      {
        module: 'notification',
        name: 'notifications',
        description: 'what a user was (or will be) told: type, channel, recipient, texts, delivery status, the event it answers',
        legacy: {
          table: 'notifications',
          fields: [
            f.uuid('id'),
            f.uuid('user_id'),
            f.text('type'),
            // the old service only sent email
            f.text('channel', { read: `COALESCE(t.channel, 'email')` }),
            f.text('recipient'),
            f.text('subject', { read: `COALESCE(t.subject, '')` }),
            f.text('message'),
            f.text('status', { read: legacyShownStatus('t.') }),
            f.text('status_reason'),
            f.uuid('event_id'),
            f.text('event_type'),
            f.timestamp('sent_at'),
            f.timestamp('created_at', { read: `COALESCE(t.created_at, ${EPOCH_SQL})` }),
            // the old service never recorded a change: a row last moved when it was sent, else when written
            f.timestamp('updated_at', { read: `COALESCE(t.updated_at, t.sent_at, t.created_at, ${EPOCH_SQL})` }),
          ],
        },
        own: {
          table: 'notifications',
          fields: [
            f.uuid('id'),
            f.uuid('user_id'),
            f.text('type'),
            f.text('channel'),
            f.text('recipient'),
            f.text('subject'),
            f.text('message'),
            f.text('status'),
            f.text('status_reason'),
            f.uuid('event_id'),
            f.text('event_type'),
            f.timestamptz('sent_at'),
            f.timestamptz('created_at'),
            f.timestamptz('updated_at'),
          ],
        },
      },
    ],
    ownOnly: [
      {
        table: 'templates',
        why:
          'the old service had its texts in code, so there is no legacy table to move them from or to; the ' +
          "module's templates are new and are read from its schema in every phase, even while notifications are written to the legacy table",
      },
      { table: 'delivery_log', why: 'new with the module (one row per delivery attempt, exactly-once sending); the old service kept no attempts' },
      { table: 'user_preferences', why: "new with the module: addresses and opt-outs learnt from user.* events, so it never reads auth's tables" },
      { table: 'booking_snapshots', why: 'new with the module: what booking.created said, so later id-only booking and payment events can be worded' },
      { table: 'outbox', why: "the module's events (notification.sent / failed), written with the state change; the old system published none" },
      { table: 'inbox', why: 'the event ids the module has consumed (exactly-once effects); the old system consumed no events' },
    ],
  };
}
