import { randomBytes, randomUUID } from 'node:crypto';
import test from 'ava';
import amqplib from 'amqplib';
import { userCreatedV1, userUpdatedV1 } from '../../../src/modules/auth/index.ts';
import type { NotificationModule } from '../../../src/modules/notification/index.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { Broker } from '../../../src/platform/events/broker.ts';
import { EventConsumer } from '../../../src/platform/events/consumer.ts';
import { buildEnvelope } from '../../../src/platform/events/envelope.ts';
import { declareTopology } from '../../../src/platform/events/topology.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { createTestVhost, testLogger, testTopology, type TestVhost } from '../../helpers/events.ts';
import { bookingCreatedPayload, envelopeOf, handle, waitFor } from './support.ts';

let app: TestApp;
let module: NotificationModule;
let db: Knex;

test.before(async () => {
  // ROLE=web: no broker, no delivery worker; queued jobs just wait
  app = await startTestApp({ env: { ROLE: 'web', STORE_NOTIFICATION: 'own' } });
  module = app.app.notification!;
  db = app.app.databases.forModule('notification');
});
test.after.always(async () => {
  await app?.stop();
});

const at = (iso: string) => new Date(iso);
const created = (userId: string, email: string, fullName: string | null, when = '2026-01-01T10:00:00.000Z') =>
  buildEnvelope(userCreatedV1, { user_id: userId, email, full_name: fullName, role: 'user', created_at: when }, { source: 'auth', now: at(when) });
const updated = (userId: string, changes: Record<string, unknown>, when: string) =>
  buildEnvelope(userUpdatedV1, { user_id: userId, changes, updated_at: when }, { source: 'auth', now: at(when) });
const notificationsOf = (userId: string) => db.withSchema('notifications').table('notifications').where({ user_id: userId }).orderBy('created_at');

test('user.created builds the preferences (address normalised) and a welcome notification', async (t) => {
  const userId = randomUUID();
  await handle(module, db, created(userId, 'Ann.Example@Example.COM', 'Ann Example'));
  t.like(await module.admin.preferences(userId), {
    userId, email: 'ann.example@example.com', fullName: 'Ann Example', emailEnabled: true, optOuts: [], source: 'user.created',
    sourceEventAt: at('2026-01-01T10:00:00.000Z'),
  });
  const [n, ...more] = await notificationsOf(userId);
  t.is(more.length, 0);
  t.like(n, { type: 'welcome', status: 'pending', recipient: 'ann.example@example.com', subject: 'Welcome to Boxoffice, Ann Example' });
});

test('user.updated applies the changed fields; an older event changes nothing; a late user.created only fills gaps', async (t) => {
  const userId = randomUUID();
  await handle(module, db, updated(userId, { full_name: 'Bo Newname', notification_settings: { opt_outs: ['booking_pending'] } }, '2026-01-02T00:00:00.000Z'));
  t.like(await module.admin.preferences(userId), { email: null, fullName: 'Bo Newname', optOuts: ['booking_pending'], source: 'user.updated' });

  // user.created (older) arrives after it, e.g. after a retry: the address is new, the name is not
  await handle(module, db, created(userId, 'bo@example.com', 'Bo Oldname', '2026-01-01T00:00:00.000Z'));
  t.like(await module.admin.preferences(userId), { email: 'bo@example.com', fullName: 'Bo Newname', optOuts: ['booking_pending'], sourceEventAt: at('2026-01-02T00:00:00.000Z') });

  await handle(module, db, updated(userId, { email: 'bo@new.example', notification_settings: { email_enabled: false } }, '2026-01-03T00:00:00.000Z'));
  t.like(await module.admin.preferences(userId), { email: 'bo@new.example', emailEnabled: false, fullName: 'Bo Newname' });

  await handle(module, db, updated(userId, { email: 'stale@example.com', full_name: 'Stale' }, '2026-01-02T12:00:00.000Z'));
  t.like(await module.admin.preferences(userId), { email: 'bo@new.example', fullName: 'Bo Newname', sourceEventAt: at('2026-01-03T00:00:00.000Z') });
});

test("booking.created's user_email fills a gap only; user.* events win over it", async (t) => {
  const userId = randomUUID();
  await handle(module, db, envelopeOf('booking.created', bookingCreatedPayload(userId, 'From.Booking@example.com')));
  t.like(await module.admin.preferences(userId), { email: 'from.booking@example.com', source: 'booking.created' });
  await handle(module, db, created(userId, 'real@example.com', 'Real Name', '2020-01-01T00:00:00.000Z'));
  t.like(await module.admin.preferences(userId), { email: 'real@example.com', fullName: 'Real Name', source: 'user.created' }, 'even an old user.created beats booking.created');
  await handle(module, db, envelopeOf('booking.created', bookingCreatedPayload(userId, 'other@example.com')));
  t.is((await module.admin.preferences(userId))?.email, 'real@example.com');
});

test('an event for a user with no known address is parked, then released when user.created arrives', async (t) => {
  const userId = randomUUID();
  const bookingId = randomUUID();
  await handle(module, db, envelopeOf('booking.confirmed', { booking_id: bookingId, user_id: userId, confirmed_at: new Date().toISOString() }));
  const [parked] = await notificationsOf(userId);
  t.like(parked, { type: 'booking_confirmed', status: 'parked', recipient: null });
  t.regex(parked.status_reason, /waiting for the email address/);
  t.is(await module.queues![0]!.getJobState(parked.id), 'unknown', 'nothing queued while parked');

  await handle(module, db, created(userId, 'late@example.com', 'Late Comer'));
  const rows = await notificationsOf(userId);
  const released = rows.find((r: { id: string }) => r.id === parked.id);
  t.like(released, { status: 'pending', recipient: 'late@example.com', status_reason: null });
  t.deepEqual(rows.map((r: { type: string }) => r.type).sort(), ['booking_confirmed', 'welcome']);
  await waitFor('the released job', async () => (await module.queues![0]!.getJobState(parked.id)) === 'waiting');
  t.pass();
});

test('opted-out types are stored but skipped; user.deleted forgets the person and drops what was parked', async (t) => {
  const userId = randomUUID();
  await handle(module, db, created(userId, 'opt@example.com', 'Opt Out'));
  await handle(module, db, updated(userId, { notification_settings: { opt_outs: ['booking_pending'] } }, '2026-06-01T00:00:00.000Z'));
  await handle(module, db, envelopeOf('booking.created', bookingCreatedPayload(userId, 'opt@example.com')));
  const pendingMail = (await notificationsOf(userId)).find((r: { type: string }) => r.type === 'booking_pending');
  t.like(pendingMail, { status: 'skipped', status_reason: 'the user opted out of these emails' });
  t.is(await module.queues![0]!.getJobState(pendingMail.id), 'unknown');

  const ghost = randomUUID();
  await handle(module, db, envelopeOf('booking.expired', { booking_id: randomUUID(), user_id: ghost, showtime_id: randomUUID(), seat_ids: [], expired_at: new Date().toISOString() }));
  await handle(module, db, envelopeOf('user.deleted', { user_id: ghost, deleted_at: new Date().toISOString(), anonymized: true }));
  const [dropped] = await notificationsOf(ghost);
  t.like(dropped, { status: 'skipped', status_reason: 'the user was deleted' });
  await handle(module, db, envelopeOf('user.deleted', { user_id: userId }));
  t.is(await module.admin.preferences(userId), undefined);
});

test('the same event handled twice, even past the inbox, creates one notification (derived id)', async (t) => {
  const userId = randomUUID();
  const e = created(userId, 'twice@example.com', 'Twice');
  await handle(module, db, e);
  await handle(module, db, e);
  t.is((await notificationsOf(userId)).length, 1);
});

test('a redelivered event through the broker is a no-op: the inbox records it once, the effect happens once', async (t) => {
  const vhost: TestVhost = await createTestVhost();
  const broker = new Broker({ url: vhost.url, logger: testLogger(), reconnectMs: 500, heartbeatSeconds: 5 });
  const conn = await amqplib.connect(vhost.url);
  const consumerQueue = `notification-service.events.${randomBytes(3).toString('hex')}`;
  const topology = testTopology([{ name: consumerQueue, bindings: ['#'] }]);
  const consumer = new EventConsumer({
    broker, db, inboxSchema: 'notifications', consumer: { ...module.consumer!, queue: consumerQueue },
    topology, prefetch: 5, maxAttempts: 3, logger: testLogger(),
  });
  try {
    t.true(await broker.waitForConnection(10_000));
    const ch = await conn.createConfirmChannel();
    await declareTopology(ch, topology);
    await consumer.start();
    const userId = randomUUID();
    const e = created(userId, 'via-broker@example.com', 'Via Broker');
    for (let i = 0; i < 2; i++) {
      ch.publish(topology.exchange, e.event_type, Buffer.from(JSON.stringify(e)), { persistent: true, messageId: e.event_id, contentType: 'application/json' });
      await ch.waitForConfirms();
    }
    const marker = created(randomUUID(), 'marker@example.com', 'Marker');
    ch.publish(topology.exchange, marker.event_type, Buffer.from(JSON.stringify(marker)), { persistent: true, messageId: marker.event_id, contentType: 'application/json' });
    await ch.waitForConfirms();
    // the queue is FIFO with one consumer: once the marker is in, both copies before it were handled
    await waitFor('the marker event', async () => (await db.withSchema('notifications').table('inbox').where({ event_id: marker.event_id })).length === 1);
    t.is((await db.withSchema('notifications').table('inbox').where({ event_id: e.event_id })).length, 1);
    t.is((await notificationsOf(userId)).length, 1);
    t.is((await module.admin.preferences(userId))?.email, 'via-broker@example.com');
  } finally {
    await consumer.stop();
    await conn.close().catch(() => undefined);
    await broker.close();
    await vhost.drop();
  }
});
