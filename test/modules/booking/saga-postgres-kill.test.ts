import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import pg from 'pg';
import { api, registerAndLogin, type TestApp } from '../../helpers/app.ts';
import { createCatalog } from '../../helpers/catalog.ts';
import { startChildApp, type ChildApp } from '../../helpers/child-app.ts';
import { createTestDatabase } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/events.ts';
import { SAGA_FLAGS } from './saga-scenarios.ts';

/**
 * `node src/main.ts` with BACKEND=postgres (no Redis, no RabbitMQ: events, jobs, throttles in Postgres),
 * SIGKILLed right after a booking and its payment were accepted — while booking.created /
 * payment.completed are between outbox, event_deliveries and the consumers — then started again on the
 * same database: the saga completes, and each event had its effect once (one payment, one
 * booking.confirmed, seats sold to the booking, one delivery of each of the user's notifications).
 */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

test('Postgres-only process killed mid-saga: after a restart the booking is confirmed, every effect once', async (t) => {
  t.timeout(150_000);
  const db = await createTestDatabase();
  const keysDir = await mkdtemp(join(tmpdir(), 'bo-pgonly-kill-'));
  const env = {
    DATABASE_URL: db.url,
    JWT_KEYS_DIR: keysDir,
    WEB_CONCURRENCY: '1',
    BACKEND: 'postgres',
    STORE_MOVIE: 'own', STORE_BOOKING: 'own', STORE_PAYMENT: 'own',
    EVENTS_RELAY_POLL_MS: '100',
    EVENTS_RETRY_DELAYS_MS: '100,200',
    LOG_LEVEL: 'warn',
    FLAGS_BOOTSTRAP: [...SAGA_FLAGS, 'use_booking_snapshot', 'publish_user_events'].map((f) => `${f}=true`).join(','),
  };
  const client = new pg.Client({ connectionString: db.url });
  let first: ChildApp | undefined;
  let second: ChildApp | undefined;
  try {
    first = await startChildApp(env);
    const email = `admin-${randomBytes(3).toString('hex')}@example.com`;
    const password = `Adm1n-${randomBytes(6).toString('hex')}`;
    const created = spawnSync(process.execPath, ['src/cli/main.ts', 'users', 'create-admin', '--email', email, '--password', password], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'test', ...env } });
    t.is(created.status, 0, String(created.stderr));
    const admin = (await api(first.url, 'POST', '/api/v1/auth/login', { body: { email, password } })).body.access_token as string;
    const catalog = await createCatalog({ url: first.url } as TestApp, admin, { rows: 1, perRow: 4, basePrice: '100000' });
    const user = await registerAndLogin(first.url, 'kill');
    const seats = catalog.seatIds.slice(0, 2);
    const booked = await api(first.url, 'POST', '/api/v1/bookings', { token: user.access, body: { showtime_id: catalog.showtimeId, seat_ids: seats } });
    t.is(booked.status, 201, JSON.stringify(booked.body));
    await client.connect();
    // payment needs its snapshot of the booking (booking.created handled) before it accepts the payment
    await waitFor('payment snapshot', async () => (await client.query('SELECT 1 FROM payments.booking_snapshots WHERE booking_id = $1', [booked.body.id])).rowCount, 30_000);
    const paid = await api(first.url, 'POST', '/api/v1/payments', {
      token: user.access,
      headers: { 'idempotency-key': randomUUID() },
      body: { booking_id: booked.body.id, payment_method: { type: 'card', token: 'tok_success' } },
    });
    t.is(paid.status, 201, JSON.stringify(paid.body));
    first.process.kill('SIGKILL');
    await waitFor('the first process gone', () => first!.process.signalCode === 'SIGKILL');
    const pendingAtKill = (await client.query(`SELECT
        (SELECT count(*) FROM payments.outbox WHERE published_at IS NULL) + (SELECT count(*) FROM bookings.outbox WHERE published_at IS NULL)
        + (SELECT count(*) FROM bookings.event_deliveries) + (SELECT count(*) FROM movies.event_deliveries) AS n`)).rows[0].n;
    t.log(`events not yet through at the kill: ${pendingAtKill}`);

    second = await startChildApp(env);
    await waitFor('booking confirmed after the restart', async () =>
      (await api(second!.url, 'GET', `/api/v1/bookings/${booked.body.id}`, { token: user.access })).body?.status === 'confirmed', 30_000);
    await waitFor('seats sold', async () =>
      (await client.query(`SELECT count(*)::int AS n FROM movies.seat_availability WHERE booking_id = $1 AND status = 'sold'`, [booked.body.id])).rows[0].n === 2, 30_000);
    const one = async (sql: string) => Number((await client.query(sql, [booked.body.id])).rows[0].n);
    t.is(await one(`SELECT count(*) AS n FROM payments.payments WHERE booking_id = $1`), 1, 'one payment');
    t.is(await one(`SELECT count(*) AS n FROM bookings.outbox WHERE event_type = 'booking.confirmed' AND envelope->'payload'->>'booking_id' = $1`), 1, 'one booking.confirmed');
    t.is(await one(`SELECT count(*) AS n FROM payments.outbox WHERE event_type = 'payment.completed' AND envelope->'payload'->>'booking_id' = $1`), 1, 'one payment.completed');
    t.is(Number((await client.query(`SELECT count(*) AS n FROM bookings.event_deliveries WHERE dead_lettered_at IS NOT NULL`)).rows[0].n), 0, 'no dead letters');
    // the user's notifications (welcome, booking confirmed): queued in the jobs schema, each delivered once
    const mine = async () => (await api(second!.url, 'GET', '/api/v1/notifications', { token: user.access })).body.items as { id: string; status: string }[];
    const sent = await waitFor('the welcome and booking notifications sent', async () => {
      const items = await mine();
      return items.length >= 2 && items.every((n) => n.status === 'sent') ? items : undefined;
    }, 60_000);
    for (const n of sent) {
      const deliveries = await client.query(`SELECT count(*)::int AS n FROM notifications.delivery_log WHERE notification_id = $1 AND outcome = 'sent'`, [n.id]);
      t.is(deliveries.rows[0].n, 1, `notification ${n.id} delivered once`);
    }
  } finally {
    await client.end().catch(() => undefined);
    await first?.stop();
    await second?.stop();
    await rm(keysDir, { recursive: true, force: true });
    await db.drop();
  }
});
