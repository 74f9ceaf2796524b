import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createLegacyNotificationStore } from '../../../src/modules/notification/internal/legacy-notification-store.ts';
import { createOwnNotificationStore } from '../../../src/modules/notification/internal/own-notification-store.ts';
import { Databases } from '../../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { notificationStoreContract } from './notification-store.contract.ts';

let db: TestDatabase;
let databases: Databases;
test.before(async () => {
  db = await createTestDatabase();
  databases = new Databases({ DATABASE_URL: db.url, DB_POOL_MAX: 4, DB_ROLE_PREFIX: 'boxoffice_' });
});
test.after.always(async () => {
  await databases?.closeAll();
  await db?.drop();
});

// both run as the notification module's role, as in production; the users the contract names exist in
// no users table at all (the legacy table's foreign key to users is gone since migrations/legacy/0006)
notificationStoreContract(test, 'legacy store (public.notifications)', () => ({
  store: createLegacyNotificationStore('public'),
  db: databases.forModule('notification'),
}));
notificationStoreContract(test, 'own store (notifications.notifications)', () => ({
  store: createOwnNotificationStore(),
  db: databases.forModule('notification'),
}));

/** a row as the old notification service wrote it: none of the delivery columns, `status` as given */
async function oldRow(status: string | null, createdAt: string | null = '2024-05-06 07:08:09'): Promise<string> {
  const id = randomUUID();
  await databases.forModule('notification').raw(
    `INSERT INTO public.notifications (id, user_id, type, subject, message, status, sent_at, created_at)
     VALUES (?, ?, 'welcome', NULL, 'Hi', ?, NULL, ?)`,
    [id, randomUUID(), status, createdAt],
  );
  return id;
}

test('legacy store: rows the old service wrote (no delivery columns) read with sensible values', async (t) => {
  const id = await oldRow(null);
  const n = await createLegacyNotificationStore('public').findById(databases.forModule('notification'), id);
  t.like(n, { id, type: 'welcome', subject: '', message: 'Hi', status: 'pending', channel: 'email', recipient: null, eventId: null });
  t.deepEqual(n?.createdAt, new Date('2024-05-06T07:08:09.000Z'));
  t.deepEqual(n?.updatedAt, n?.createdAt);
  const undated = await createLegacyNotificationStore('public').findById(databases.forModule('notification'), await oldRow('pending', null));
  t.deepEqual([undated?.createdAt, undated?.updatedAt], [new Date(0), new Date(0)]);
});

test('legacy store: an old row shown as pending (NULL or unknown status) moves "from pending" like the own copy would', async (t) => {
  const store = createLegacyNotificationStore('public');
  const db = databases.forModule('notification');
  for (const status of [null, 'queued']) {
    const id = await oldRow(status);
    t.is((await store.findById(db, id))?.status, 'pending');
    t.is(await store.transition(db, id, ['parked'], { status: 'skipped' }), undefined, `${status}: not parked`);
    t.like(await store.transition(db, id, ['pending'], { status: 'failed', statusReason: 'gave up' }), { status: 'failed', statusReason: 'gave up' });
  }
});
