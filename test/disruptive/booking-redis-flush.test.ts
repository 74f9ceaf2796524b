import test from 'ava';
import { createClient } from 'redis';
import { startTestApp } from '../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers } from '../helpers/catalog.ts';
import { assertInvariants, client, runBasketRace } from '../modules/booking/contention.ts';

// FLUSHALL wipes every key on the shared Redis (every test process's): this file runs alone, serially,
// under the exclusive test lock. FLUSHALL never stops the server, and the flusher is stopped in `finally`.
const flusher = createClient({ url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379' });
test.before(async () => {
  await flusher.connect();
});
test.after.always(async () => {
  await flusher.close().catch(() => flusher.destroy());
});

/** FLUSHALL every `everyMs` until stopped; returns how many flushes happened. */
function flushRepeatedly(everyMs: number) {
  let flushes = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await flusher.flushAll();
      flushes++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return { stop: async () => ((stopped = true), await loop, flushes) };
}

for (const cfg of [
  { store: 'own', perSeat: true },
  { store: 'legacy', perSeat: true },
  { store: 'own', perSeat: false },
  { store: 'legacy', perSeat: false },
] as const) {
  const label = `${cfg.store}/${cfg.perSeat ? 'per-seat' : 'showtime-lock'}`;
  test.serial(`${label}: Redis flushed every 20 ms during the races — still no seat held twice`, async (t) => {
    const t0 = await startTestApp({ env: { STORE_MOVIE: cfg.store, STORE_BOOKING: cfg.store, FLAGS_BOOTSTRAP: `use_per_seat_locks=${cfg.perSeat}`, DB_POOL_MAX: '8' } });
    const http = client(t0.url, 600);
    try {
      const admin = await adminToken(t0);
      const users = await forgeUsers(t0, 50);
      const one = await createCatalog(t0, admin, { rows: 1, perRow: 5 });
      const hall = await createCatalog(t0, admin, { rows: 10, perRow: 15 });
      const flushing = flushRepeatedly(20);
      let answers;
      let race;
      try {
        answers = await Promise.all(
          Array.from({ length: 500 }, (_, i) => http.request('POST', '/api/v1/bookings', users[i % users.length]!.token, { showtime_id: one.showtimeId, seat_ids: [one.seatIds[0]!] })),
        );
        race = await runBasketRace(http, hall.showtimeId, hall.seatIds, users, 200, 4_000);
      } finally {
        t.log(`${await flushing.stop()} flushes`);
      }
      const statuses = answers.map((a) => a.status);
      t.is(statuses.filter((s) => s === 201).length, 1, 'one seat, 500 requests: exactly one 201');
      t.is(statuses.filter((s) => s === 409).length, 499);
      t.is((await t0.app.booking!.admin.activeSeats(one.showtimeId)).length, 1);
      t.log(`${race.attempts} attempts, statuses ${JSON.stringify(Object.fromEntries(race.statuses))}`);
      t.deepEqual([...race.statuses.keys()].filter((s) => s !== 201 && s !== 409 && s !== 1200), [], 'no 5xx');
      await assertInvariants(t, t0, hall.showtimeId, race, cfg.perSeat, 'subset');
      t.is(await flusher.ping(), 'PONG', 'Redis is left working');
    } finally {
      http.close();
      await t0.stop();
    }
  });
}
