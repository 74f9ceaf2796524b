import test from 'ava';
import { api, registerAndLogin, startTestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog } from '../../helpers/catalog.ts';
import { count, waitFor } from '../../helpers/events.ts';
import { startSmtp } from '../notification/support.ts';
import { declined, expired, happyPath, refundOnCancel, SAGA_FLAGS, type Rig } from './saga-scenarios.ts';

/**
 * The booking saga end to end with BACKEND=postgres (ADR 0077, 0078): the same scenarios as over
 * RabbitMQ (saga-scenarios.ts), every event carried by the consumers' event_deliveries tables, and
 * notification delivery (the welcome mail) queued in the bullmq schema through BullMQ's Postgres backend.
 * No Redis and no broker is configured; that nothing else is reached at all is proven by the
 * fresh-directory test, which runs in a network namespace with only loopback.
 */
test.serial('saga over Postgres only (own stores): confirm, decline → cancel, expiry, refund on cancel; the welcome mail once', async (t) => {
  t.timeout(180_000);
  const smtp = await startSmtp();
  let r: Rig | undefined;
  try {
    const app = await startTestApp({
      env: {
        STORE_MOVIE: 'own',
        STORE_BOOKING: 'own',
        STORE_PAYMENT: 'own',
        DB_POOL_MAX: '3',
        BACKEND: 'postgres',
        EVENTS_RELAY_POLL_MS: '100',
        EVENTS_RETRY_DELAYS_MS: '100,200',
        BOOKING_SWEEP_INTERVAL_MS: '200',
        SMTP_URL: smtp.url,
        NOTIFICATION_BACKOFF_MS: '100',
        FLAGS_BOOTSTRAP: [...SAGA_FLAGS, 'use_booking_snapshot', 'publish_user_events'].map((f) => `${f}=true`).join(','),
      },
    });
    r = { app, admin: await adminToken(app), catalog: undefined as never };
    r.catalog = await createCatalog(app, r.admin, { rows: 2, perRow: 5, basePrice: '100000' });
    t.is(app.app.events?.transport, 'postgres');
    await happyPath(t, r, 'own');
    await declined(t, r, 'own');
    await expired(t, r);
    await refundOnCancel(t, r, 'own');
    // notification delivery: user.created → notification's inbox → the welcome mail, once
    const u = await registerAndLogin(app.url, 'pgonly');
    await waitFor('the welcome mail', () => smtp.mails.some((m) => m.to.includes(u.user.email)), 30_000);
    await waitFor('the notification marked sent', async () => (await api(app.url, 'GET', '/api/v1/notifications', { token: u.access })).body.items?.[0]?.status === 'sent');
    t.is(smtp.mails.filter((m) => m.to.includes(u.user.email)).length, 1, 'one welcome mail');
    const ready = await api(app.url, 'GET', '/health/ready');
    t.like(ready.body, { profile: { backend: 'postgres', events: 'postgres', jobs: 'postgres' } });
    t.deepEqual(Object.keys(ready.body.checks).filter((c) => /redis|rabbitmq/.test(c)), [], 'readiness asks for no Redis or broker');
    t.is(app.app.redis, undefined);
    // the delivery job ran through the bullmq schema's tables (BullMQ's Postgres backend)
    const jobs = await app.app.jobs.queue('notification-delivery').getJobCounts('completed', 'failed');
    t.true((jobs['completed'] ?? 0) >= 1, JSON.stringify(jobs));
    for (const [module, schema] of [['movie', 'movies'], ['booking', 'bookings'], ['payment', 'payments']] as const) {
      const db = app.app.databases.forModule(module);
      t.true(await count(db, `SELECT count(*) AS n FROM ${schema}.inbox`) > 0, `${module} consumed events`);
      t.is(await count(db, `SELECT count(*) AS n FROM ${schema}.event_deliveries WHERE dead_lettered_at IS NOT NULL`), 0, `${module}: no dead letters`);
    }
  } finally {
    await r?.app.stop();
    await smtp.close();
  }
});
