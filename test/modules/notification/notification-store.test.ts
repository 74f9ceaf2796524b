import { randomUUID } from 'node:crypto';
import test from 'ava';
import { LegacyUserMissingError } from '../../../src/modules/notification/internal/errors.ts';
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

/** a user in the legacy users table (written as the legacy role, as the old auth service did) */
async function legacyUser(): Promise<string> {
  const id = randomUUID();
  await databases.forRole('legacy', 'public').table('users').insert({ id, email: `n-${id.slice(0, 8)}@example.com`, hashed_password: 'x' });
  return id;
}

// both run as the notification module's role, as in production
notificationStoreContract(test, 'legacy store (public.notifications)', () => ({
  store: createLegacyNotificationStore('public'),
  db: databases.forModule('notification'),
  makeUser: legacyUser,
}));
notificationStoreContract(test, 'own store (notifications.notifications)', () => ({
  store: createOwnNotificationStore(),
  db: databases.forModule('notification'),
  makeUser: async () => randomUUID(),
}));

test('legacy store: a user the legacy users table does not know is LegacyUserMissingError (the old foreign key)', async (t) => {
  const store = createLegacyNotificationStore('public');
  const userId = randomUUID();
  const err = await t.throwsAsync(
    store.insert(databases.forModule('notification'), {
      id: randomUUID(), userId, type: 'welcome', channel: 'email', recipient: 'x@example.com', subject: 's', message: 'm',
      status: 'pending', statusReason: null, eventId: randomUUID(), eventType: 'user.created',
    }),
    { instanceOf: LegacyUserMissingError },
  );
  t.is(err?.userId, userId);
});

test('legacy store: rows the old service wrote (no delivery columns) read with sensible values', async (t) => {
  const userId = await legacyUser();
  const id = randomUUID();
  await databases.forModule('notification').raw(
    `INSERT INTO public.notifications (id, user_id, type, subject, message, status, sent_at, created_at)
     VALUES (?, ?, 'welcome', NULL, 'Hi', NULL, NULL, '2024-05-06 07:08:09')`,
    [id, userId],
  );
  const n = await createLegacyNotificationStore('public').findById(databases.forModule('notification'), id);
  t.like(n, { id, userId, type: 'welcome', subject: '', message: 'Hi', status: 'pending', channel: 'email', recipient: null, eventId: null });
  t.deepEqual(n?.createdAt, new Date('2024-05-06T07:08:09.000Z'));
  t.deepEqual(n?.updatedAt, n?.createdAt);
});
