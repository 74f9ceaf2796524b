import { randomUUID } from 'node:crypto';
import test from 'ava';
import type { NotificationModule } from '../../../src/modules/notification/index.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { bookingCreatedPayload, envelopeOf, handle } from './support.ts';

let app: TestApp;
let module: NotificationModule;
let db: Knex;

test.before(async () => {
  // no cutover flags: the routed store is in LEGACY, so notifications land in the shared table
  app = await startTestApp({ env: { ROLE: 'web' } });
  module = app.app.notification!;
  db = app.app.databases.forModule('notification');
});
test.after.always(async () => {
  await app?.stop();
});

/** a registered user with a welcome and `bookings` booking-pending notifications, created in that order */
async function userWithNotifications(bookings: number) {
  const u = await registerAndLogin(app.url, 'notif');
  await handle(module, db, envelopeOf('user.created', { user_id: u.id, email: u.user.email, full_name: u.user.full_name }));
  const bookingIds: string[] = [];
  for (let i = 0; i < bookings; i++) {
    const payload = bookingCreatedPayload(u.id, u.user.email);
    bookingIds.push(payload.booking_id);
    await new Promise((r) => setTimeout(r, 5)); // distinct created_at
    await handle(module, db, envelopeOf('booking.created', payload));
  }
  return { ...u, bookingIds };
}

test('GET /api/v1/notifications: the caller’s own, newest first, paginated', async (t) => {
  t.like((await module.health()).details, { stores: { phase: 'LEGACY', writes: 'legacy', reads: 'legacy' } });
  const ann = await userWithNotifications(2);
  const bo = await userWithNotifications(1);

  const all = await api(app.url, 'GET', '/api/v1/notifications', { token: ann.access });
  t.is(all.status, 200);
  t.is(all.headers.get('cache-control'), 'private, no-store');
  t.like(all.body, { total: 3, limit: 20, offset: 0 });
  t.deepEqual(all.body.items.map((n: { type: string }) => n.type), ['booking_pending', 'booking_pending', 'welcome']);
  t.true(all.body.items[0].message.includes(ann.bookingIds[1]!.slice(0, 8).toUpperCase()), 'newest booking first');
  t.deepEqual(Object.keys(all.body.items[2]).sort(), ['channel', 'created_at', 'id', 'message', 'sent_at', 'status', 'status_reason', 'subject', 'type']);
  t.like(all.body.items[2], { type: 'welcome', channel: 'email', status: 'pending', sent_at: null, subject: `Welcome to Boxoffice, ${ann.user.full_name}` });

  const page = await api(app.url, 'GET', '/api/v1/notifications?limit=1&offset=1', { token: ann.access });
  t.like(page.body, { total: 3, limit: 1, offset: 1 });
  t.is(page.body.items.length, 1);
  t.is(page.body.items[0].id, all.body.items[1].id);

  const others = await api(app.url, 'GET', '/api/v1/notifications', { token: bo.access });
  t.is(others.body.total, 2);
  const annIds = new Set(all.body.items.map((n: { id: string }) => n.id));
  t.false(others.body.items.some((n: { id: string }) => annIds.has(n.id)), 'nothing of another user');
});

test('GET /api/v1/notifications: 401 problem+json without or with a bad token; 422 naming a bad query parameter', async (t) => {
  const anonymous = await api(app.url, 'GET', '/api/v1/notifications');
  t.is(anonymous.status, 401);
  t.regex(anonymous.headers.get('content-type') ?? '', /application\/problem\+json/);
  t.is(anonymous.body.type, 'urn:boxoffice:problem:unauthorized');
  t.is((await api(app.url, 'GET', '/api/v1/notifications', { token: 'not.a.jwt' })).status, 401);

  const u = await registerAndLogin(app.url);
  const bad = await api(app.url, 'GET', '/api/v1/notifications?limit=500', { token: u.access });
  t.is(bad.status, 422);
  t.is(bad.body.errors[0].field, 'query.limit');
  const empty = await api(app.url, 'GET', '/api/v1/notifications', { token: u.access });
  t.deepEqual(empty.body, { items: [], total: 0, limit: 20, offset: 0 });
});

test('legacy store: a user who exists only in the auth schema gets notifications in the shared table (no foreign key to users since legacy 0006)', async (t) => {
  const userId = randomUUID();
  await handle(module, db, envelopeOf('user.created', { user_id: userId, email: 'own-only@example.com', full_name: null }));
  t.like(await module.admin.preferences(userId), { email: 'own-only@example.com' });
  const rows = (await db.withSchema('public').table('notifications').where({ user_id: userId }).select('type', 'status', 'recipient')) as unknown[];
  t.deepEqual(rows, [{ type: 'welcome', status: 'pending', recipient: 'own-only@example.com' }]);
});
