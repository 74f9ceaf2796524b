import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createBookingMapping } from '../../../src/modules/booking/index.ts';
import { SeatsTakenError } from '../../../src/modules/booking/internal/errors.ts';
import { createLegacyBookingStore } from '../../../src/modules/booking/internal/legacy-booking-store.ts';
import { createOwnBookingStore } from '../../../src/modules/booking/internal/own-booking-store.ts';
import type { BookingStore, NewBooking } from '../../../src/modules/booking/internal/types.ts';
import { createPool, Databases, type Knex } from '../../../src/platform/db.ts';
import { backendPid, createTestDatabase, waitUntilBlockedBy, type TestDatabase } from '../../helpers/db.ts';
import { compareSides } from '../../helpers/strangler.ts';

/**
 * While the write primary switches, some processes book legacy-first and some own-first for up to the
 * flag refresh interval; with dual-write on, each booking is copied to the other side in its own
 * transaction. Two such bookings racing for one seat: exactly one wins, the other is told which seat is
 * taken (409), never a 500 — whichever side each started on — and both sides end equal.
 */
let db: TestDatabase;
let databases: Databases;
let admin: Knex;
test.before(async () => {
  db = await createTestDatabase();
  databases = new Databases({ DATABASE_URL: db.url, DB_POOL_MAX: 6, DB_ROLE_PREFIX: 'boxoffice_' });
  admin = createPool(db.url, { max: 2 });
  // a dual-write lease, as a process in DUAL_WRITE or READ_NEW holds one: the capture triggers copy every write
  await admin.raw(`INSERT INTO migration.dual_write_leases (module, instance, mode, phase, expires_at) VALUES ('booking', 'test', 'inline', 'READ_NEW', now() + interval '1 hour')`);
});
test.after.always(async () => {
  await admin?.destroy();
  await databases?.closeAll();
  await db?.drop();
});

const legacy = createLegacyBookingStore('public', 'VND', { db: () => databases.forModule('booking') });
const own = createOwnBookingStore();

function booking(showtimeId: string, seatIds: string[]): NewBooking {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  return {
    id: randomUUID(), userId: randomUUID(), userEmail: 'race@example.com', showtimeId, currency: 'VND', totalPrice: `${seatIds.length * 50000}.00`,
    snapshot: {
      showtime_id: showtimeId, movie_id: randomUUID(), movie_title: 'Race', theater_id: randomUUID(), theater_name: 'Hall', screen: null, city: null,
      start_time: '2031-01-01T10:00:00.000Z', end_time: '2031-01-01T12:00:00.000Z', base_price: '50000.00', currency: 'VND', status: 'scheduled',
    },
    expiresAt: new Date(now.getTime() + 600_000), createdAt: now,
    seats: [...seatIds].sort().map((seatId, i) => ({ seatId, row: 'A', number: i + 1, type: 'standard', price: '50000.00' })),
  };
}

/** `first` books and holds its transaction open until `second` (started meanwhile) waits on it; then `first` commits. */
async function race(first: BookingStore, second: BookingStore) {
  const pool = databases.forModule('booking');
  const showtimeId = randomUUID();
  const [shared, other] = [randomUUID(), randomUUID()];
  const a = booking(showtimeId, [shared]);
  const b = booking(showtimeId, [shared, other]);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let inserted!: (pid: number) => void;
  const firstIn = new Promise<number>((r) => (inserted = r));
  const firstTx = pool.transaction(async (trx) => {
    const pid = await backendPid(trx);
    await first.insertPending(trx, a);
    inserted(pid);
    await held;
  });
  const firstPid = await firstIn;
  const secondTx = pool.transaction((trx) => second.insertPending(trx, b));
  secondTx.catch(() => undefined);
  await waitUntilBlockedBy(admin, firstPid);
  release();
  await firstTx;
  return { a, b, secondTx, showtimeId };
}

for (const [name, first, second] of [['own-first holds, legacy-first comes second', own, legacy], ['legacy-first holds, own-first comes second', legacy, own]] as const) {
  test.serial(`${name}: the second is refused with the taken seat; both sides hold the first`, async (t) => {
    const { a, b, secondTx, showtimeId } = await race(first, second);
    const err = await t.throwsAsync(secondTx, { instanceOf: SeatsTakenError });
    t.deepEqual(err?.seats, [a.seats[0]!.seatId]);
    const pool = databases.forModule('booking');
    for (const store of [legacy, own]) {
      t.deepEqual(await store.activeSeats(pool, showtimeId), [{ seatId: a.seats[0]!.seatId, bookingId: a.id }]);
      t.is(await store.findById(pool, b.id), undefined);
    }
    t.deepEqual(await compareSides(admin, createBookingMapping({ legacySchema: 'public', currency: 'VND' })), []);
  });
}
