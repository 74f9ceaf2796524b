import test from 'ava';
import { api, startTestApp, type TestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers } from '../../helpers/catalog.ts';

// Seat hoarding (issue 8): one user held all 58 seats of a showtime with 6 requests, for 15 minutes,
// again and again. Caps on what one account holds unpaid, on each store. Per-seat holds, so concurrent
// requests of one user meet in the database (the old showtime lock would turn them away before).
for (const store of ['legacy', 'own'] as const) {
  let t0: TestApp;
  let admin: string;
  test.before(async () => {
    t0 = await startTestApp({
      env: {
        STORE_MOVIE: store, STORE_BOOKING: store, FLAGS_BOOTSTRAP: 'use_per_seat_locks=true',
        BOOKING_MAX_SEATS: '10', BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME: '4', BOOKING_MAX_PENDING_BOOKINGS: '3',
      },
    });
    admin = await adminToken(t0);
  });
  test.after.always(async () => {
    await t0?.stop();
  });
  const name = (s: string) => `${store}: ${s}`;
  const book = (token: string, showtime_id: string, seat_ids: string[]) => api(t0.url, 'POST', '/api/v1/bookings', { token, body: { showtime_id, seat_ids } });

  test(name('pending seats per showtime: past the cap is a 409 naming the limit; others are not affected'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 2, perRow: 6 });
    const [hoarder, other] = await forgeUsers(t0, 2);
    t.is((await book(hoarder!.token, c.showtimeId, c.seatIds.slice(0, 3))).status, 201);
    const over = await book(hoarder!.token, c.showtimeId, c.seatIds.slice(3, 5));
    t.is(over.status, 409, JSON.stringify(over.body));
    t.like(over.body, { type: 'urn:boxoffice:problem:pending-limit-reached', limit: 'pending_seats_per_showtime', max: 4, pending: 3, requested: 2 });
    t.is((await book(hoarder!.token, c.showtimeId, [c.seatIds[3]!])).status, 201, 'up to the cap is fine');
    t.is((await book(other!.token, c.showtimeId, c.seatIds.slice(4, 8))).status, 201, 'another user books as before');
    // the refused request left its seats free
    const seats = await api(t0.url, 'GET', `/api/v1/showtimes/${c.showtimeId}/seats`);
    t.is(seats.status, 200);
  });

  test(name('pending bookings overall: a fourth unpaid booking is refused; cancelling or expiry frees the slot'), async (t) => {
    const shows = await Promise.all([1, 2, 3, 4].map((h) => createCatalog(t0, admin, { rows: 1, perRow: 2, startInHours: 24 * h })));
    const [user] = await forgeUsers(t0, 1);
    const made = [];
    for (const s of shows.slice(0, 3)) {
      const res = await book(user!.token, s.showtimeId, [s.seatIds[0]!]);
      t.is(res.status, 201);
      made.push(res.body.id as string);
    }
    const fourth = await book(user!.token, shows[3]!.showtimeId, [shows[3]!.seatIds[0]!]);
    t.is(fourth.status, 409);
    t.like(fourth.body, { limit: 'pending_bookings', max: 3, pending: 3 });
    t.is((await api(t0.url, 'POST', `/api/v1/bookings/${made[0]}/cancel`, { token: user!.token })).status, 200);
    t.is((await book(user!.token, shows[3]!.showtimeId, [shows[3]!.seatIds[0]!])).status, 201, 'a cancelled booking no longer counts');
    // expiry frees them as today (the sweeper's work, run now as of after the hold time)
    t.is((await book(user!.token, shows[0]!.showtimeId, [shows[0]!.seatIds[1]!])).status, 409);
    await t0.app.booking!.admin.expireDue(new Date(Date.now() + 3_600_000));
    t.is((await book(user!.token, shows[0]!.showtimeId, [shows[0]!.seatIds[1]!])).status, 201, 'expired bookings no longer count');
  });

  test(name('a burst of concurrent requests by one user cannot pass the cap together'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 3, perRow: 6 });
    const [user] = await forgeUsers(t0, 1);
    const results = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => book(user!.token, c.showtimeId, c.seatIds.slice(i * 2, i * 2 + 2))));
    const statuses = results.map((r) => r.status).sort();
    t.deepEqual(statuses, [201, 201, 409, 409, 409, 409], JSON.stringify(results.map((r) => r.body)));
    t.true(results.filter((r) => r.status === 409).every((r) => r.body.type === 'urn:boxoffice:problem:pending-limit-reached'));
    const held = await t0.app.booking!.admin.activeSeats(c.showtimeId);
    t.is(held.length, 4);
  });
}
