import test from 'ava';
import { startTestApp, testBackend } from '../../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers } from '../../helpers/catalog.ts';
import { assertInvariants, client, runBasketRace } from './contention.ts';

// every store with every lock strategy: the database keeps the invariant whichever Redis path is used.
// One app at a time (serial), so the shared Postgres never sees more than one app's pools.
const configs = [
  { store: 'legacy', perSeat: false },
  { store: 'legacy', perSeat: true },
  { store: 'own', perSeat: false },
  { store: 'own', perSeat: true },
  // BACKEND=postgres has no Redis lock of either kind: each store once
].filter((c) => testBackend() === 'full' || c.perSeat) as readonly { store: 'legacy' | 'own'; perSeat: boolean }[];

for (const c of configs) {
  const label = `${c.store}/${c.perSeat ? 'per-seat' : 'showtime-lock'}`;
  test.serial(`${label}: 500 parallel requests for one seat → one 201, 499 × 409; then 200 clients with random 1–4 seat baskets on a 150-seat showtime for 4 s → no seat twice, no 5xx`, async (t) => {
    const t0 = await startTestApp({ env: { STORE_MOVIE: c.store, STORE_BOOKING: c.store, FLAGS_BOOTSTRAP: `use_per_seat_locks=${c.perSeat}`, DB_POOL_MAX: '8' } });
    const http = client(t0.url, 600);
    try {
      const admin = await adminToken(t0);
      const users = await forgeUsers(t0, 50);

      const one = await createCatalog(t0, admin, { rows: 1, perRow: 5 });
      const seat = one.seatIds[2]!;
      const answers = await Promise.all(
        Array.from({ length: 500 }, (_, i) => http.request('POST', '/api/v1/bookings', users[i % users.length]!.token, { showtime_id: one.showtimeId, seat_ids: [seat] })),
      );
      const statuses = answers.map((a) => a.status);
      t.is(statuses.filter((s) => s === 201).length, 1);
      t.is(statuses.filter((s) => s === 409).length, 499);
      for (const a of answers.filter((x) => x.status === 409)) t.deepEqual(a.body.seats, [seat]);
      const winner = answers.find((a) => a.status === 201)!;
      t.deepEqual(await t0.app.booking!.admin.activeSeats(one.showtimeId), [{ seatId: seat, bookingId: winner.body.id }]);

      const hall = await createCatalog(t0, admin, { rows: 10, perRow: 15 });
      t.is(hall.seatIds.length, 150);
      const race = await runBasketRace(http, hall.showtimeId, hall.seatIds, users, 200, 4_000);
      t.log(`${race.attempts} attempts, statuses ${JSON.stringify(Object.fromEntries(race.statuses))}, ${race.created.size} created, ${race.cancelled.size} cancelled`);
      t.true(race.created.size > 0, 'some bookings went through');
      t.true((race.statuses.get(409) ?? 0) > 0, 'and there was contention');
      t.deepEqual([...race.statuses.keys()].filter((s) => s !== 201 && s !== 409 && s !== 1200), [], 'only 201, 409 and successful cancels');
      await assertInvariants(t, t0, hall.showtimeId, race, c.perSeat);
    } finally {
      http.close();
      await t0.stop();
    }
  });
}
