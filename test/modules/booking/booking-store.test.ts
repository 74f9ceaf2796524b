import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createLegacyBookingStore } from '../../../src/modules/booking/internal/legacy-booking-store.ts';
import { createOwnBookingStore } from '../../../src/modules/booking/internal/own-booking-store.ts';
import { SeatsTakenError } from '../../../src/modules/booking/internal/errors.ts';
import type { NewBooking } from '../../../src/modules/booking/internal/types.ts';
import { Databases } from '../../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { waitFor } from '../../helpers/events.ts';
import { bookingStoreContract, type ShowtimeFixture } from './booking-store.contract.ts';

// a database per store variant: the contract's sweeper case claims every due booking of the tables it uses
let dbs: TestDatabase[] = [];
let databases: Databases;
let newShowtimes: Databases;
test.before(async () => {
  dbs = await Promise.all([createTestDatabase(), createTestDatabase()]);
  [databases, newShowtimes] = dbs.map((d) => new Databases({ DATABASE_URL: d.url, DB_POOL_MAX: 10, DB_ROLE_PREFIX: 'boxoffice_' })) as [Databases, Databases];
});
test.after.always(async () => {
  await databases?.closeAll();
  await newShowtimes?.closeAll();
  for (const d of dbs) await d.drop();
});

/**
 * A showtime with `n` seats. `inSharedTables`: also written to the old catalog tables, as for a showtime
 * from before the movie module left them; otherwise it exists only in the movie schema (not made here:
 * the stores take its snapshot and seats as given).
 */
async function showtime(n: number, inSharedTables = true): Promise<ShowtimeFixture> {
  const legacy = databases.forRole('legacy', 'public');
  const [movieId, theaterId, showtimeId] = [randomUUID(), randomUUID(), randomUUID()];
  const start = new Date(Date.UTC(2031, 5, 1, 18));
  const seats = Array.from({ length: n }, (_, i) => ({ seatId: randomUUID(), row: 'A', number: i + 1, type: 'standard', price: '50000.00' }));
  if (inSharedTables) {
    await legacy.table('movies').insert({ id: movieId, title: `Film ${movieId.slice(0, 6)}`, duration_minutes: 100 });
    await legacy.table('theaters').insert({ id: theaterId, name: 'Hall - Screen 1', location: 'Hue', total_seats: n });
    await legacy.table('seats').insert(seats.map((s) => ({ id: s.seatId, theater_id: theaterId, row_label: s.row, seat_number: s.number, seat_type: s.type })));
    await legacy.table('showtimes').insert({ id: showtimeId, movie_id: movieId, theater_id: theaterId, start_time: start, end_time: new Date(start.getTime() + 6e6), price: 50000, available_seats: n });
  }
  return {
    showtimeId,
    seats,
    snapshot: {
      showtime_id: showtimeId, movie_id: movieId, movie_title: `Film ${movieId.slice(0, 6)}`, theater_id: theaterId, theater_name: 'Hall - Screen 1',
      screen: 'Screen 1', city: 'Hue', start_time: start.toISOString(), end_time: new Date(start.getTime() + 6e6).toISOString(), base_price: '50000.00',
      currency: 'VND', status: 'scheduled',
    },
  };
}

async function user() {
  const id = randomUUID();
  const email = `${id.slice(0, 8)}@example.com`;
  await databases.forRole('legacy', 'public').table('users').insert({ id, email, hashed_password: 'x' });
  return { id, email };
}

// all run as the booking module's role, as in production
const legacyStore = (pools = databases) => createLegacyBookingStore('public', 'VND', { db: () => pools.forModule('booking') });
bookingStoreContract(test, 'legacy store (shared tables)', () => ({ store: legacyStore(), db: databases.forModule('booking'), showtime, user }));
// the shared tables no longer need the showtime row: movie may create showtimes only in its own schema
bookingStoreContract(test, 'legacy store, showtime only in the movie schema', () => ({
  store: legacyStore(newShowtimes), db: newShowtimes.forModule('booking'), showtime: (n) => showtime(n, false), user,
}));
bookingStoreContract(test, 'own store (bookings schema)', () => ({ store: createOwnBookingStore(), db: databases.forModule('booking'), showtime, user }));

const available = async (showtimeId: string) =>
  ((await databases.forRole('legacy', 'public').table('showtimes').where({ id: showtimeId }).first('available_seats')) as { available_seats: number }).available_seats;

function newBooking(s: ShowtimeFixture, u: { id: string; email: string }, seats: ShowtimeFixture['seats']): NewBooking {
  return {
    id: randomUUID(), userId: u.id, userEmail: u.email, showtimeId: s.showtimeId, snapshot: s.snapshot, totalPrice: `${50000 * seats.length}.00`, currency: 'VND',
    expiresAt: new Date(Date.now() + 60_000), createdAt: new Date(), seats,
  };
}

test('legacy store: the old available_seats counter goes down with a booking and up when it ends, where the shared tables have the showtime', async (t) => {
  const s = await showtime(4);
  const u = await user();
  const store = legacyStore();
  const booking = databases.forModule('booking');
  const b = newBooking(s, u, s.seats.slice(0, 3));
  await booking.transaction((trx) => store.insertPending(trx, b));
  // recounted after commit
  await waitFor('the counter after the booking', async () => (await available(s.showtimeId)) === 1);
  await booking.transaction((trx) => store.finish(trx, b.id, 'expired', 'payment not received in time'));
  await waitFor('the counter after the expiry', async () => (await available(s.showtimeId)) === 4);
  t.pass();
});

test('legacy store: a counter left wrong (a recount missed) is made good by the showtime\'s next booking', async (t) => {
  const s = await showtime(5);
  const u = await user();
  const store = legacyStore();
  const booking = databases.forModule('booking');
  await booking.transaction((trx) => store.insertPending(trx, newBooking(s, u, s.seats.slice(0, 1))));
  await waitFor('the first recount', async () => (await available(s.showtimeId)) === 4);
  await databases.forRole('legacy', 'public').table('showtimes').where({ id: s.showtimeId }).update({ available_seats: 77 });
  await booking.transaction((trx) => store.insertPending(trx, newBooking(s, u, s.seats.slice(1, 3))));
  await waitFor('the counter recounted', async () => (await available(s.showtimeId)) === 2);
  t.pass();
});

test('legacy store: bookings of disjoint seats of one showtime do not wait for each other; a booking of the same seat waits and is refused', async (t) => {
  const s = await showtime(4);
  const u = await user();
  const store = legacyStore();
  const booking = databases.forModule('booking');
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let inserted!: () => void;
  const first = new Promise<void>((r) => (inserted = r));
  // the first booking stays uncommitted (holding whatever it locked) until the others are done
  const open = booking.transaction(async (trx) => {
    await store.insertPending(trx, newBooking(s, u, [s.seats[0]!, s.seats[1]!]));
    inserted();
    await held;
  });
  await first;
  try {
    // a lock wait fails this one (55P03) instead of waiting for the first to commit
    await t.notThrowsAsync(booking.transaction(async (trx) => {
      await trx.raw(`SET LOCAL lock_timeout = '2s'`);
      await store.insertPending(trx, newBooking(s, u, [s.seats[2]!, s.seats[3]!]));
    }));
    // the same seat: it waits for the first to commit, then sees the seat taken
    const same = booking.transaction((trx) => store.insertPending(trx, newBooking(s, u, [s.seats[1]!])));
    same.catch(() => undefined);
    release();
    await open;
    await t.throwsAsync(same, { instanceOf: SeatsTakenError });
  } finally {
    release();
    await open.catch(() => undefined);
  }
  await waitFor('the counter', async () => (await available(s.showtimeId)) === 0);
});
