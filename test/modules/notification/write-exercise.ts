import { randomUUID } from 'node:crypto';
import { createLegacyNotificationStore } from '../../../src/modules/notification/internal/legacy-notification-store.ts';
import { NOTIFICATION_STORE_METHODS, type NotificationStore } from '../../../src/modules/notification/internal/notification-store.ts';
import { createOwnNotificationStore } from '../../../src/modules/notification/internal/own-notification-store.ts';
import type { NewNotification } from '../../../src/modules/notification/internal/types.ts';
import type { WriteExercise } from '../../migration/write-exercise.ts';

const draft = (over: Partial<NewNotification> = {}): NewNotification => ({
  id: randomUUID(),
  userId: randomUUID(),
  type: 'booking_confirmed',
  channel: 'email',
  recipient: 'writer@example.com',
  subject: 'Your tickets: Dune',
  message: 'Hi,\n\nyour booking is confirmed.',
  status: 'pending',
  statusReason: null,
  eventId: randomUUID(),
  eventType: 'booking.confirmed',
  ...over,
});

/**
 * Every write of notification's store, through the routed store (test/migration/write-coverage.test.ts),
 * the way the module makes them: the consumer inserts in its transaction, the delivery worker locks,
 * moves and touches in its own, the sweeper moves and touches with the bare pool.
 */
export const writeExercises: WriteExercise[] = [
  {
    module: 'notification',
    store: ({ legacySchema }) => ({
      module: 'notification',
      name: 'notifications',
      legacy: createLegacyNotificationStore(legacySchema),
      own: createOwnNotificationStore(),
      methods: NOTIFICATION_STORE_METHODS,
    }),
    async exercise(store, db) {
      const notifications = store as NotificationStore;
      const parked = draft({ status: 'parked', recipient: null, statusReason: 'waiting for the address', subject: '' });
      const pending = draft({ createdAt: new Date('2026-01-02T03:04:05.678Z') });
      const failing = draft({ channel: 'log', eventId: null, eventType: null });
      for (const n of [parked, pending, failing]) await notifications.insert(db, n);
      // a second insert of one id changes nothing (a replayed event)
      await notifications.insert(db, { ...pending, subject: 'replayed' });

      // the sweeper: outside any transaction
      await notifications.transition(db, parked.id, ['parked'], { status: 'pending', recipient: 'late@example.com', statusReason: null });
      await notifications.touch(db, parked.id);

      // the delivery worker: lock, then record in the same transaction
      await db.transaction(async (trx) => {
        await notifications.lockById(trx, pending.id);
        await notifications.transition(trx, pending.id, ['pending'], { status: 'sent', statusReason: null, sentAt: new Date('2026-01-02T03:05:00.123Z') });
      });
      await db.transaction(async (trx) => {
        await notifications.touch(trx, failing.id);
        await notifications.transition(trx, failing.id, ['pending'], { status: 'failed', statusReason: 'permanent failure: 550 no such user' });
      });
    },
  } satisfies WriteExercise<NotificationStore> as WriteExercise,
];
