import test from 'ava';
import { api, startTestApp, type TestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers } from '../../helpers/catalog.ts';
import { createTestDatabase } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/events.ts';
import { deliverOutbox } from './helpers.ts';


for (const cfg of [
  { store: 'legacy', perSeat: false },
  { store: 'own', perSeat: true },
] as const) {
  test(`${cfg.store}/${cfg.perSeat ? 'per-seat' : 'showtime-lock'}: a pending booking expires at expires_at, its seats are bookable again`, async (t) => {
    const t0 = await startTestApp({
      env: { STORE_MOVIE: cfg.store, STORE_BOOKING: cfg.store, FLAGS_BOOTSTRAP: `use_per_seat_locks=${cfg.perSeat}`, BOOKING_HOLD_SECONDS: '1', BOOKING_SWEEP_INTERVAL_MS: '100' },
    });
    try {
      const [a, b] = await forgeUsers(t0, 2);
      const c = await createCatalog(t0, await adminToken(t0), { rows: 1, perRow: 3 });
      const seat = c.seatIds[1]!;
      const first = await api(t0.url, 'POST', '/api/v1/bookings', { token: a!.token, body: { showtime_id: c.showtimeId, seat_ids: [seat] } });
      t.is(first.status, 201);
      t.is((await api(t0.url, 'POST', '/api/v1/bookings', { token: b!.token, body: { showtime_id: c.showtimeId, seat_ids: [seat] } })).status, 409, 'held while pending');
      await waitFor('expiry', async () => (await api(t0.url, 'GET', `/api/v1/bookings/${first.body.id}`, { token: a!.token })).body.status === 'expired');
      t.true(Date.now() >= Date.parse(first.body.expires_at), 'not before its time');
      await deliverOutbox(t0);
      const map = (await api(t0.url, 'GET', `/api/v1/showtimes/${c.showtimeId}/seats`)).body as { seat_id: string; status: string }[];
      t.is(map.find((s) => s.seat_id === seat)?.status, 'available');
      if (cfg.perSeat) t.is(await t0.app.redis!.get(t0.app.booking!.admin.seatHoldKey(c.showtimeId, seat)), null, 'the hold was released');
      const db = { table: (name: string) => t0.app.databases.forModule('booking').withSchema('bookings').table(name) };
      const expired = await db.table('outbox').where({ event_type: 'booking.expired' }).whereRaw(`envelope->'payload'->>'booking_id' = ?`, [first.body.id]);
      t.is(expired.length, 1);
      t.like(await db.table('saga_state').where({ booking_id: first.body.id }).first(), { current_step: 'expired', status: 'compensated' });
      const again = await api(t0.url, 'POST', '/api/v1/bookings', { token: b!.token, body: { showtime_id: c.showtimeId, seat_ids: [seat] } });
      t.is(again.status, 201);
      const cancelExpired = await api(t0.url, 'POST', `/api/v1/bookings/${first.body.id}/cancel`, { token: a!.token });
      t.is(cancelExpired.status, 409);
    } finally {
      await t0.stop();
    }
  });
}

test('expiry survives a restart: a booking made by a process that stopped is expired by the next one', async (t) => {
  const db = await createTestDatabase();
  try {
    const env = { STORE_MOVIE: 'own', STORE_BOOKING: 'own', FLAGS_BOOTSTRAP: 'use_per_seat_locks=true', BOOKING_HOLD_SECONDS: '1' };
    const first = await startTestApp({ db, env: { ...env, BOOKING_SWEEP_INTERVAL_MS: '600000' } });
    const [user] = await forgeUsers(first, 1);
    const c = await createCatalog(first, await adminToken(first), { rows: 1, perRow: 1 });
    const res = await api(first.url, 'POST', '/api/v1/bookings', { token: user!.token, body: { showtime_id: c.showtimeId, seat_ids: [c.seatIds[0]!] } });
    t.is(res.status, 201);
    await first.stop();
    const second = await startTestApp({ db, env: { ...env, BOOKING_SWEEP_INTERVAL_MS: '100' } });
    try {
      await waitFor('the new process to expire it', async () => (await second.app.booking!.admin.activeSeats(c.showtimeId)).length === 0);
      const row = await second.app.databases.forModule('booking').withSchema('bookings').table('bookings').where({ id: res.body.id }).first();
      t.is(row.status, 'expired');
    } finally {
      await second.stop();
    }
  } finally {
    await db.drop();
  }
});
