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
 * SIGKILLed right after a payment, a declined payment and a third booking were accepted — while their
 * events are between outbox, event_deliveries and the consumers — and started again on the same
 * database once the third booking's hold has run out: the saga completes, the declined booking is
 * compensated (cancelled, seats freed), the lapsed one expires, and each event had its effect once (one
 * payment, one booking.confirmed / cancelled / expired, seats sold to the paid booking, one delivery of
 * each of the user's notifications).
 */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

test('Postgres-only process killed mid-saga: after a restart the paid booking is confirmed, the declined one compensated, the lapsed one expired — every effect once', async (t) => {
  t.timeout(200_000);
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
    BOOKING_SWEEP_INTERVAL_MS: '200',
    // a delivery job the kill cut off is taken up again when its lock (2 × this + 10 s) runs out
    NOTIFICATION_SEND_TIMEOUT_MS: '2000',
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
    const catalog = await createCatalog({ url: first.url } as TestApp, admin, { rows: 1, perRow: 8, basePrice: '100000' });
    const user = await registerAndLogin(first.url, 'kill');
    await client.connect();
    const book = async (seatIds: string[]) => {
      const res = await api(first!.url, 'POST', '/api/v1/bookings', { token: user.access, body: { showtime_id: catalog.showtimeId, seat_ids: seatIds } });
      t.is(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const payWith = async (bookingId: string, card: string) => {
      // payment needs its snapshot of the booking (booking.created handled) before it accepts the payment
      await waitFor('payment snapshot', async () => (await client.query('SELECT 1 FROM payments.booking_snapshots WHERE booking_id = $1', [bookingId])).rowCount, 30_000);
      const res = await api(first!.url, 'POST', '/api/v1/payments', {
        token: user.access,
        headers: { 'idempotency-key': randomUUID() },
        body: { booking_id: bookingId, payment_method: { type: 'card', token: card } },
      });
      t.is(res.status, 201, JSON.stringify(res.body));
    };
    const seats = catalog.seatIds.slice(0, 2);
    const booked = { body: { id: await book(seats) } };
    // a declined payment (compensation: the booking is cancelled, its seats freed) and a booking whose hold
    // runs out while the process is down (expiry), both in flight at the kill
    const declined = await book(catalog.seatIds.slice(2, 4));
    await payWith(booked.body.id, 'tok_success');
    await payWith(declined, 'tok_decline');
    const lapsing = await book(catalog.seatIds.slice(4, 6));
    first.process.kill('SIGKILL');
    await waitFor('the first process gone', () => first!.process.signalCode === 'SIGKILL');
    const pendingAtKill = (await client.query(`SELECT
        (SELECT count(*) FROM payments.outbox WHERE published_at IS NULL) + (SELECT count(*) FROM bookings.outbox WHERE published_at IS NULL)
        + (SELECT count(*) FROM bookings.event_deliveries) + (SELECT count(*) FROM movies.event_deliveries) AS n`)).rows[0].n;
    t.log(`events not yet through at the kill: ${pendingAtKill}`);
    // the hold ran out while nothing was running
    await client.query(`UPDATE bookings.bookings SET expires_at = now() - interval '1 second' WHERE id = $1`, [lapsing]);

    second = await startChildApp(env);
    await waitFor('booking confirmed after the restart', async () =>
      (await api(second!.url, 'GET', `/api/v1/bookings/${booked.body.id}`, { token: user.access })).body?.status === 'confirmed', 30_000);
    await waitFor('seats sold', async () =>
      (await client.query(`SELECT count(*)::int AS n FROM movies.seat_availability WHERE booking_id = $1 AND status = 'sold'`, [booked.body.id])).rows[0].n === 2, 30_000);
    const countFor = async (sql: string, id: string) => Number((await client.query(sql, [id])).rows[0].n);
    const one = (sql: string) => countFor(sql, booked.body.id);
    t.is(await one(`SELECT count(*) AS n FROM payments.payments WHERE booking_id = $1`), 1, 'one payment');
    t.is(await one(`SELECT count(*) AS n FROM bookings.outbox WHERE event_type = 'booking.confirmed' AND envelope->'payload'->>'booking_id' = $1`), 1, 'one booking.confirmed');
    t.is(await one(`SELECT count(*) AS n FROM payments.outbox WHERE event_type = 'payment.completed' AND envelope->'payload'->>'booking_id' = $1`), 1, 'one payment.completed');
    t.is(Number((await client.query(`SELECT count(*) AS n FROM bookings.event_deliveries WHERE dead_lettered_at IS NOT NULL`)).rows[0].n), 0, 'no dead letters');
    // compensation and expiry completed after the restart, each once, their seats free again
    for (const [id, status, event] of [[declined, 'cancelled', 'booking.cancelled'], [lapsing, 'expired', 'booking.expired']] as const) {
      await waitFor(`booking ${status}`, async () => (await api(second!.url, 'GET', `/api/v1/bookings/${id}`, { token: user.access })).body?.status === status, 30_000);
      t.is(await countFor(`SELECT count(*) AS n FROM bookings.outbox WHERE event_type = '${event}' AND envelope->'payload'->>'booking_id' = $1`, id), 1, `one ${event}`);
    }
    t.is(await countFor(`SELECT count(*) AS n FROM payments.payments WHERE booking_id = $1 AND status = 'failed'`, declined), 1, 'one failed payment for the declined booking');
    await waitFor('the seats of the cancelled and the expired booking available again', async () =>
      (await client.query(`SELECT count(*)::int AS n FROM movies.seat_availability WHERE seat_id = ANY($1) AND status = 'available' AND booking_id IS NULL`, [catalog.seatIds.slice(2, 6)])).rows[0].n === 4, 30_000);
    // the user's notifications : queued in the bullmq schema, each delivered once
    const mine = async () => (await api(second!.url, 'GET', '/api/v1/notifications', { token: user.access })).body.items as { id: string; status: string }[];
    const sent = await waitFor('all nine notifications of the user sent (welcome; booking pending ×3, confirmed, cancelled, expired; receipt; payment failed)', async () => {
      const items = await mine();
      return items.length === 9 && items.every((n) => n.status === 'sent') ? items : undefined;
    }, 60_000);
    for (const n of sent) {
      const deliveries = await client.query(`SELECT count(*)::int AS n FROM notifications.delivery_log WHERE notification_id = $1 AND outcome = 'sent'`, [n.id]);
      t.is(deliveries.rows[0].n, 1, `notification ${n.id} delivered once`);
    }
  } catch (err) {
    // a fetch that failed names neither the request nor the process: say how both processes stand
    t.log(`failed: ${(err as Error).stack} ${String((err as { cause?: unknown }).cause ?? '')}`);
    for (const [name, app] of [['first', first], ['second', second]] as const) if (app) t.log(`${name}: ${app.describe()}`);
    throw err;
  } finally {
    await client.end().catch(() => undefined);
    await first?.stop();
    await second?.stop();
    await rm(keysDir, { recursive: true, force: true });
    await db.drop();
  }
});
