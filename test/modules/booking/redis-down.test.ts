import test from 'ava';
import { api, startTestApp, type TestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers, type TestUser } from '../../helpers/catalog.ts';

// Redis is an optimisation for catalog reads and a fast path for seat conflicts: when it cannot be reached
// (here: nothing listens on the port), reads come from Postgres and Postgres alone decides bookings. No 500.
let t0: TestApp;
let admin: string;
let users: TestUser[];
test.before(async () => {
  t0 = await startTestApp({ unleash: true, env: { REDIS_URL: 'redis://127.0.0.1:1', STORE_MOVIE: 'own', STORE_BOOKING: 'own', FLAGS_BOOTSTRAP: 'use_per_seat_locks=true' } });
  admin = await adminToken(t0);
  users = await forgeUsers(t0, 2);
});
test.after.always(async () => {
  await t0?.stop();
});

test('catalog writes and cached reads work without Redis', async (t) => {
  t.false(t0.app.redis!.isReady);
  const c = await createCatalog(t0, admin, { rows: 1, perRow: 3 });
  t.is((await api(t0.url, 'GET', `/api/v1/movies/${c.movieId}`)).status, 200);
  const patched = await api(t0.url, 'PATCH', `/api/v1/movies/${c.movieId}`, { token: admin, body: { title: 'Renamed while Redis is away' } });
  t.is(patched.status, 200);
  t.is((await api(t0.url, 'GET', `/api/v1/movies/${c.movieId}`)).body.title, 'Renamed while Redis is away');
  t.is((await api(t0.url, 'GET', '/api/v1/showtimes')).status, 200);
  t.is((await api(t0.url, 'GET', `/api/v1/showtimes/${c.showtimeId}/seats`)).body.length, 3);
});

for (const perSeat of [true, false]) {
  test.serial(`${perSeat ? 'per-seat' : 'showtime-lock'}: bookings go through on the database check alone, and conflicts are still 409`, async (t) => {
    await t0.setFlag('use_per_seat_locks', perSeat);
    t.is(t0.app.flags.isEnabled('use_per_seat_locks'), perSeat);
    const c = await createCatalog(t0, admin, { rows: 1, perRow: 2 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => api(t0.url, 'POST', '/api/v1/bookings', { token: users[i % 2]!.token, body: { showtime_id: c.showtimeId, seat_ids: [c.seatIds[0]!] } })),
    );
    t.is(answers.filter((a) => a.status === 201).length, 1);
    t.is(answers.filter((a) => a.status === 409).length, 19);
  });
}
