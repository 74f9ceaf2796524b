/**
 * The event chain when idle (issue 13): one client, the saga's flags on, own stores, a real RabbitMQ (a vhost
 * of the bench's own) — or, with BENCH_BACKEND=postgres, the Postgres-only profile (ADR 0078). For each
 * booking, in turn:
 *   hop 1: booking 201 → payment's booking snapshot exists (booking.created: outbox → relay → broker → payment's consumer)
 *   hop 2: payment 201 → the booking is confirmed (payment.completed: outbox → relay → broker → booking's consumer)
 * measured from this process (a dedicated connection polls for the row every millisecond), and split by the
 * rows' own timestamps: the relay's claim of the outbox row (published_at) and the consumer's transaction (inbox
 * handled_at), against the wall clock of the 201.
 * The service is `node src/main.ts` in a process of its own.
 *
 *   npm run bench -- saga-latency
 *   BENCH_SAGAS=200 npm run bench -- saga-latency
 *
 * Timings are reported, never asserted.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { TestApp } from '../test/helpers/app.ts';
import { createCatalog } from '../test/helpers/catalog.ts';
import { createTestDatabase } from '../test/helpers/db.ts';
import { createTestVhost } from '../test/helpers/events.ts';
import { adminLogin, forgeUsers, percentile, sagaEnv, startService } from './_service.ts';

const SAGAS = Number(process.env['BENCH_SAGAS'] ?? 100);
const POSTGRES_ONLY = process.env['BENCH_BACKEND'] === 'postgres';
const db = await createTestDatabase();
const vhost = POSTGRES_ONLY ? undefined : await createTestVhost();
const service = await startService(db.url, {
  ...sagaEnv(vhost?.url),
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('EVENTS_'))) as Record<string, string>,
});
const poll = new pg.Client({ connectionString: db.url });
await poll.connect();

/** every millisecond until the query returns a row */
async function until(sql: string, params: unknown[], timeoutMs = 10_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const r = await poll.query(sql, params);
    if (r.rowCount) return performance.now();
    if (performance.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${sql}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

const hop1: number[] = [];
const hop2: number[] = [];
const parts = { relay1: [] as number[], consume1: [] as number[], relay2: [] as number[], consume2: [] as number[] };
try {
  const admin = await adminLogin(service);
  const [user] = await forgeUsers(service, 1);
  const catalog = await createCatalog({ url: service.url } as TestApp, admin, { rows: Math.ceil((SAGAS + 20) / 20), perRow: 20 });
  for (let i = 0; i < SAGAS + 10; i++) {
    const booked = await new Promise<{ status: number; id: string }>((resolve, reject) => {
      void fetch(`${service.url}/api/v1/bookings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user!.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ showtime_id: catalog.showtimeId, seat_ids: [catalog.seatIds[i]] }),
      }).then(async (r) => resolve({ status: r.status, id: ((await r.json()) as { id: string }).id }), reject);
    });
    const t1 = performance.now();
    const wall1 = Date.now();
    if (booked.status !== 201) throw new Error(`booking ${booked.status}`);
    const t2 = await until('SELECT 1 FROM payments.booking_snapshots WHERE booking_id = $1', [booked.id]);
    const paid = await fetch(`${service.url}/api/v1/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user!.token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({ booking_id: booked.id, payment_method: { type: 'card', token: 'tok_success' } }),
    });
    await paid.body?.cancel();
    const t3 = performance.now();
    const wall3 = Date.now();
    if (paid.status !== 201) throw new Error(`payment ${paid.status}`);
    const t4 = await until(`SELECT 1 FROM bookings.bookings WHERE id = $1 AND status = 'confirmed'`, [booked.id]);
    if (i < 10) continue; // warm-up
    hop1.push(t2 - t1);
    hop2.push(t4 - t3);
    // the rows' timestamps (now(): when each transaction began) against the wall clock of the 201 (one machine, one clock)
    // (the consumer may finish before the relay's own transaction, which marks the row, commits)
    await until(`SELECT 1 FROM bookings.outbox o WHERE o.event_type = 'booking.created' AND o.envelope->'payload'->>'booking_id' = $1 AND published_at IS NOT NULL`, [booked.id]);
    await until(`SELECT 1 FROM payments.outbox o WHERE o.event_type = 'payment.completed' AND o.envelope->'payload'->>'booking_id' = $1 AND published_at IS NOT NULL`, [booked.id]);
    const ms = (sql: string, wall: number) => poll.query(sql, [booked.id]).then((r) => {
      const row = r.rows[0] as { claimed: Date; handled: Date };
      return { relay: row.claimed.getTime() - wall, consume: row.handled.getTime() - row.claimed.getTime() };
    });
    const created = await ms(`SELECT o.published_at AS claimed, i.handled_at AS handled
      FROM bookings.outbox o JOIN payments.inbox i USING (event_id) WHERE o.event_type = 'booking.created' AND o.envelope->'payload'->>'booking_id' = $1`, wall1);
    const completed = await ms(`SELECT o.published_at AS claimed, i.handled_at AS handled
      FROM payments.outbox o JOIN bookings.inbox i USING (event_id) WHERE o.event_type = 'payment.completed' AND o.envelope->'payload'->>'booking_id' = $1`, wall3);
    parts.relay1.push(created.relay);
    parts.consume1.push(created.consume);
    parts.relay2.push(completed.relay);
    parts.consume2.push(completed.consume);
  }
} finally {
  await poll.end();
  await service.stop();
  await vhost?.drop();
  await db.drop();
}

const out = (s: string) => process.stdout.write(`${s}\n`);
const row = (label: string, xs: number[]) => out(`${label.padEnd(58)} ${percentile(xs, 50).toFixed(1).padStart(7)} ${percentile(xs, 99).toFixed(1).padStart(7)}`);
out(`${SAGAS} sagas, one client, idle service, ${POSTGRES_ONLY ? 'BACKEND=postgres' : 'full stack'} (Node ${process.version}; EVENTS_* from the environment passed through)`);
out(`${'hop'.padEnd(58)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)}`);
row('booking 201 → payment snapshot (target p99 < 50)', hop1);
row('  201 → the relay claimed the outbox row (ms, ±1 clock)', parts.relay1);
row('  claimed → payment\'s consumer began handling it', parts.consume1);
row('payment 201 → booking confirmed (target p99 < 50)', hop2);
row('  201 → the relay claimed the outbox row', parts.relay2);
row('  claimed → booking\'s consumer began handling it', parts.consume2);
process.exit(0);
