import { createServer, type Server } from 'node:net';
import test from 'ava';
import { api, registerAndLogin, startTestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog } from '../../helpers/catalog.ts';
import { count, waitFor } from '../../helpers/events.ts';
import { startSmtp } from '../notification/support.ts';
import { declined, expired, happyPath, refundOnCancel, SAGA_FLAGS, type Rig } from './saga-scenarios.ts';

/**
 * The booking saga end to end with EVENTS_TRANSPORT=postgres (ADR 0077): the same scenarios as over
 * RabbitMQ (saga-scenarios.ts), every event carried by the consumers' event_deliveries tables. AMQP_URL
 * points at a listener that counts connections: the app must never open one. Notification delivery
 * (the welcome mail) rides the same transport; its job queue is still BullMQ on Redis (ADR 0077).
 */
async function connectionCounter(): Promise<{ url: string; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `amqp://guest:guest@127.0.0.1:${port}`, connections: () => connections, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

test.serial('saga over Postgres only (own stores): confirm, decline → cancel, expiry, refund on cancel; no broker connection', async (t) => {
  t.timeout(180_000);
  const broker = await connectionCounter();
  const smtp = await startSmtp();
  let r: Rig | undefined;
  try {
    const app = await startTestApp({
      env: {
        STORE_MOVIE: 'own',
        STORE_BOOKING: 'own',
        STORE_PAYMENT: 'own',
        DB_POOL_MAX: '3',
        EVENTS_TRANSPORT: 'postgres',
        AMQP_URL: broker.url,
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
    t.like(ready.body, { profile: { events: 'postgres' } });
    t.false('rabbitmq' in ready.body.checks, 'readiness does not ask for a broker it does not use');
    for (const [module, schema] of [['movie', 'movies'], ['booking', 'bookings'], ['payment', 'payments']] as const) {
      const db = app.app.databases.forModule(module);
      t.true(await count(db, `SELECT count(*) AS n FROM ${schema}.inbox`) > 0, `${module} consumed events`);
      t.is(await count(db, `SELECT count(*) AS n FROM ${schema}.event_deliveries WHERE dead_lettered_at IS NOT NULL`), 0, `${module}: no dead letters`);
    }
  } finally {
    await r?.app.stop();
    await broker.close();
    await smtp.close();
  }
  t.is(broker.connections(), 0, 'no connection to AMQP_URL');
});
