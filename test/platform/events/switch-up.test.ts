import test from 'ava';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog } from '../../helpers/catalog.ts';
import { createTestDatabase } from '../../helpers/db.ts';
import { count, createTestVhost, waitFor } from '../../helpers/events.ts';
import { SAGA_FLAGS } from '../../modules/booking/saga-scenarios.ts';
import { startSmtp } from '../../modules/notification/support.ts';
import { pay } from '../../modules/payment/fixtures.ts';

/**
 * Issue 12 item 4, switching up: a deployment on BACKEND=postgres is stopped with work in flight at every
 * stage — a notification job waiting in the bullmq schema, events relayed into the consumers'
 * event_deliveries but not handled, an event still in its outbox — and started again with Redis and
 * RabbitMQ (BACKEND=full) on the same database, no migration in between. Everything is delivered, once:
 * the outboxes are the same tables, the AMQP process drains what the Postgres transport left, and the
 * notification sweeper queues the waiting notification again in Redis.
 */
test('BACKEND=postgres → full with events and jobs in flight: nothing lost, every effect once', async (t) => {
  t.timeout(150_000);
  const db = await createTestDatabase();
  const [vhost, smtp] = await Promise.all([createTestVhost(), startSmtp()]);
  const common = {
    STORE_MOVIE: 'own', STORE_BOOKING: 'own', STORE_PAYMENT: 'own', STORE_NOTIFICATION: 'own',
    EVENTS_RELAY_POLL_MS: '100',
    SMTP_URL: smtp.url,
    NOTIFICATION_BACKOFF_MS: '100',
    FLAGS_BOOTSTRAP: [...SAGA_FLAGS, 'use_booking_snapshot', 'publish_user_events'].map((f) => `${f}=true`).join(','),
  };
  let before: TestApp | undefined;
  let after: TestApp | undefined;
  try {
    before = await startTestApp({ db, env: { ...common, BACKEND: 'postgres' } });
    const app = before;
    const admin = await adminToken(app);
    const catalog = await createCatalog(app, admin, { rows: 1, perRow: 6, basePrice: '100000' });

    // 1. a notification job waiting in Postgres: the delivery worker is stopped before the user registers
    await app.app.notification!.workers.find((w) => w.name === 'jobs:notification-delivery')!.stop();
    const user = await registerAndLogin(app.url, 'switch');
    const queue = app.app.notification!.queues![0]!;
    const welcome = await waitFor('the welcome notification queued in Postgres', async () => {
      const rows = (await app.app.databases.forModule('notification').raw(`SELECT id FROM notifications.notifications WHERE user_id = ? AND status = 'pending'`, [user.id])).rows as { id: string }[];
      return rows[0] && (await queue.getJobState(rows[0].id)) === 'waiting' ? rows[0].id : undefined;
    });

    // 2. booking.created relayed into the consumers' tables, not handled: the dispatchers are stopped
    for (const d of app.app.events!.dispatchers) await d.stop();
    const first = await api(app.url, 'POST', '/api/v1/bookings', { token: user.access, body: { showtime_id: catalog.showtimeId, seat_ids: catalog.seatIds.slice(0, 2) } });
    t.is(first.status, 201);
    const paymentsDb = app.app.databases.forModule('payment');
    await waitFor('booking.created waiting in payments.event_deliveries', async () =>
      (await count(paymentsDb, `SELECT count(*) AS n FROM payments.event_deliveries WHERE envelope->'payload'->>'booking_id' = ?`, [first.body.id])) === 1);

    // 3. an event still in its outbox: the relays are stopped too
    for (const r of app.app.events!.relays) await r.stop();
    const second = await api(app.url, 'POST', '/api/v1/bookings', { token: user.access, body: { showtime_id: catalog.showtimeId, seat_ids: catalog.seatIds.slice(2, 4) } });
    t.is(second.status, 201);
    const bookingsDb = app.app.databases.forModule('booking');
    t.is(await count(bookingsDb, `SELECT count(*) AS n FROM bookings.outbox WHERE published_at IS NULL AND envelope->'payload'->>'booking_id' = ?`, [second.body.id]), 1);
    t.false(smtp.mails.some((m) => m.to.includes(user.user.email)), 'nothing was mailed to the user before the switch');
    await before.stop();
    before = undefined;

    // the switch: the same database, Redis and RabbitMQ from now on
    after = await startTestApp({
      db,
      env: { ...common, BACKEND: 'full', AMQP_URL: vhost.url, NOTIFICATION_REQUEUE_AFTER_MS: '200', NOTIFICATION_SWEEP_INTERVAL_MS: '200' },
    });
    const ready = await api(after.url, 'GET', '/health/ready');
    t.is(ready.status, 200);
    t.like(ready.body, { profile: { backend: 'full', events: 'amqp', jobs: 'redis' } });
    const again = (await api(after.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: user.user.password } })).body.access_token as string;
    const snapshot = (bookingId: string) =>
      waitFor(`payment's snapshot of ${bookingId}`, async () => (await count(after!.app.databases.forModule('payment'), 'SELECT count(*) AS n FROM payments.booking_snapshots WHERE booking_id = ?', [bookingId])) === 1, 30_000);
    await snapshot(first.body.id);
    await snapshot(second.body.id);
    const paid = await pay(after, { token: again, bookingId: first.body.id, card: 'tok_success' });
    t.is(paid.status, 201, JSON.stringify(paid.body));
    await waitFor('the first booking confirmed over RabbitMQ', async () => (await api(after!.url, 'GET', `/api/v1/bookings/${first.body.id}`, { token: again })).body.status === 'confirmed', 30_000);
    await waitFor('the welcome mail', () => smtp.mails.some((m) => m.to.includes(user.user.email)), 30_000);
    await waitFor('the welcome notification sent', async () => (await after!.app.notification!.admin.find(welcome))?.status === 'sent', 30_000);

    const afterDb = (m: 'payment' | 'booking' | 'movie' | 'notification') => after!.app.databases.forModule(m);
    t.is(smtp.mails.filter((m) => m.to.includes(user.user.email) && /welcome/i.test(m.raw)).length, 1, 'one welcome mail');
    t.is((await after.app.notification!.admin.deliveryLog(welcome)).filter((a) => a.outcome === 'sent').length, 1, 'delivered once');
    for (const [module, schema] of [['payment', 'payments'], ['booking', 'bookings'], ['movie', 'movies']] as const) {
      t.is(await count(afterDb(module), `SELECT count(*) AS n FROM ${schema}.event_deliveries`), 0, `${schema}.event_deliveries drained`);
      t.is(await count(afterDb(module), `SELECT count(*) AS n FROM (SELECT event_id FROM ${schema}.inbox GROUP BY event_id HAVING count(*) > 1) d`), 0);
    }
    t.is(await count(afterDb('payment'), 'SELECT count(*) AS n FROM payments.payments WHERE booking_id = ?', [first.body.id]), 1, 'one payment');
    t.is(await count(afterDb('booking'), `SELECT count(*) AS n FROM bookings.outbox WHERE published_at IS NULL`), 0, 'every outbox row published');
    t.is(await count(afterDb('movie'), `SELECT count(*) AS n FROM movies.seat_availability WHERE booking_id = ? AND status = 'sold'`, [first.body.id]), 2, 'seats sold once to the paid booking');
  } finally {
    await before?.stop();
    await after?.stop();
    await smtp.close();
    await vhost.drop();
    await db.drop();
  }
});
