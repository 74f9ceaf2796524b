import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createBookingMapping } from '../../../src/modules/booking/index.ts';
import { createLegacyBookingStore } from '../../../src/modules/booking/internal/legacy-booking-store.ts';
import { createOwnBookingStore } from '../../../src/modules/booking/internal/own-booking-store.ts';
import type { NewBooking } from '../../../src/modules/booking/internal/types.ts';
import type { ShowtimeSnapshot } from '../../../src/modules/movie/index.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { compareSides, useMappingDatabase } from '../../helpers/strangler.ts';

const fx = useMappingDatabase(test);

const mapping = createBookingMapping({ legacySchema: 'public', currency: 'VND' });
const legacyStore = createLegacyBookingStore('public', 'VND', { db: () => fx.databases.forModule('booking') });
const ownStore = createOwnBookingStore();
const bookingDb = () => fx.databases.forModule('booking');
const copy = async (to: 'own' | 'legacy', ids: string[]) =>
  ((await fx.admin.raw(`SELECT migration.booking__bookings_copy_to_${to}(?::uuid[]) AS n`, [ids])) as { rows: [{ n: number }] }).rows[0].n;
const versions = async (schema: string, ids: string[]) =>
  ((await fx.admin.raw(
    `SELECT 'b' || id || ':' || xmin AS v FROM "${schema}".bookings WHERE id = ANY(?::uuid[])
     UNION ALL SELECT 's' || booking_id || seat_id || ':' || xmin FROM "${schema}".booking_seats WHERE booking_id = ANY(?::uuid[]) ORDER BY 1`,
    [ids, ids],
  )) as { rows: { v: string }[] }).rows.map((r) => r.v);

/** What the legacy store showed for an old booking's showtime before it kept snapshots (its toSnapshot, as it was). */
function oldSnapshot(s: { id: string; movieId: string; title: string; theaterId: string; name: string; location: string | null; start: string; end: string; price: string; cancelled: boolean }): ShowtimeSnapshot {
  return {
    showtime_id: s.id, movie_id: s.movieId, movie_title: s.title, theater_id: s.theaterId, theater_name: s.name,
    screen: /\bScreen\s+\S+$/i.exec(s.name)?.[0] ?? null, city: s.location,
    start_time: new Date(`${s.start.replace(' ', 'T')}Z`).toISOString(), end_time: new Date(`${s.end.replace(' ', 'T')}Z`).toISOString(),
    base_price: s.price, currency: 'VND', status: s.cancelled ? 'cancelled' : 'scheduled',
  };
}

// theater names around the screen rule: word boundary, case, JavaScript's whitespace, no screen at all
const THEATER_NAMES = ['Hall - Screen 1', 'Cinema screen 3', 'XScreen 1', 'Grand Hall', 'Screen A Screen B', 'Hall\u00a0Screen\u00a0X', 'éScreen 9', 'Hall ſcreen 5'];

/** Bookings as the old system wrote them: none of legacy 0006's columns, and NULL in every nullable old column. */
async function oldBookings() {
  const legacy = fx.databases.forRole('legacy', 'public');
  const user = { id: randomUUID(), email: `old-${randomUUID().slice(0, 6)}@example.com` };
  await legacy.table('users').insert({ id: user.id, email: user.email, hashed_password: 'x' });
  const movie = { id: randomUUID(), title: 'Old Film' };
  await legacy.table('movies').insert({ id: movie.id, title: movie.title, duration_minutes: 100 });
  const made: { id: string; userId: string; email: string; showtimeId: string; seatIds: string[]; snapshot: ShowtimeSnapshot; seats: { row: string; number: number; type: string }[] }[] = [];
  for (const [i, name] of THEATER_NAMES.entries()) {
    const theater = { id: randomUUID(), name, location: i % 2 === 0 ? null : 'Hue' };
    await legacy.table('theaters').insert({ ...theater, total_seats: 10 });
    const seats = [{ id: randomUUID(), row_label: 'C', seat_number: 4, seat_type: null }, { id: randomUUID(), row_label: 'C', seat_number: 5, seat_type: 'vip' }];
    await legacy.table('seats').insert(seats.map((s) => ({ ...s, theater_id: theater.id })));
    const st = { id: randomUUID(), start: '2030-01-02 03:04:05.678', end: '2030-01-02 05:00:00', price: '85000.50', cancelled: i === 1 };
    await legacy.table('showtimes').insert({
      id: st.id, movie_id: movie.id, theater_id: theater.id, start_time: st.start, end_time: st.end, price: st.price, available_seats: 8,
      cancelled_at: st.cancelled ? '2029-12-01 00:00:00' : null,
    });
    // every other booking names a user the shared tables no longer have (cross-module keys are gone)
    const userId = i % 2 === 0 ? user.id : randomUUID();
    const id = randomUUID();
    await legacy.table('bookings').insert({
      id, user_id: userId, showtime_id: st.id, status: i % 3 === 0 ? null : ['pending', 'confirmed', 'cancelled'][i % 3], total_price: '171001.00',
      expires_at: null, created_at: i % 2 === 0 ? null : '2029-12-24 10:00:00', updated_at: null,
    });
    await legacy.table('booking_seats').insert(seats.map((s) => ({ booking_id: id, seat_id: s.id, showtime_id: st.id, created_at: null })));
    made.push({
      id, userId, email: userId === user.id ? user.email : '', showtimeId: st.id, seatIds: seats.map((s) => s.id),
      snapshot: oldSnapshot({ ...st, movieId: movie.id, title: movie.title, theaterId: theater.id, name, location: theater.location }),
      seats: seats.map((s) => ({ row: s.row_label, number: s.seat_number, type: s.seat_type ?? 'standard' })),
    });
  }
  return { user, made };
}

test.serial('old legacy bookings → own: the own store reads what the legacy store reads (as the old store showed it); a second copy changes nothing', async (t) => {
  const { user, made } = await oldBookings();
  const ids = made.map((m) => m.id);
  for (const m of made) {
    const got = await legacyStore.findById(bookingDb(), m.id);
    t.deepEqual(got?.snapshot, m.snapshot, `the showtime as the old store showed it (${m.snapshot.theater_name})`);
    t.like(got, { userEmail: m.email, currency: 'VND', totalPrice: '171001.00', cancelReason: null, expiresAt: null });
    t.deepEqual(got?.seats.map(({ seatId, row, number, type, price }) => ({ seatId, row, number, type, price })), [...m.seatIds].sort().map((seatId) => ({
      seatId, ...m.seats[m.seatIds.indexOf(seatId)]!, price: '85000.50',
    })));
  }
  t.like(await legacyStore.findById(bookingDb(), made[0]!.id), { status: 'pending', createdAt: new Date(0), updatedAt: new Date(0) });

  t.is(await copy('own', ids), made.length);
  for (const m of made) t.deepEqual(await ownStore.findById(bookingDb(), m.id), await legacyStore.findById(bookingDb(), m.id));
  t.deepEqual(await ownStore.listByUser(bookingDb(), user.id, { limit: 50, offset: 0 }), await legacyStore.listByUser(bookingDb(), user.id, { limit: 50, offset: 0 }));
  // a booking the old system left without a status reads as pending: its seats are taken on both sides
  const nullStatus = made[0]!;
  t.deepEqual(await ownStore.activeSeats(bookingDb(), nullStatus.showtimeId), await legacyStore.activeSeats(bookingDb(), nullStatus.showtimeId));
  t.is((await ownStore.activeSeats(bookingDb(), nullStatus.showtimeId)).length, 2);
  t.deepEqual(await compareSides(fx.admin, mapping), []);

  const before = await versions('bookings', ids);
  t.is(before.length, made.length * 3);
  await copy('own', ids);
  t.deepEqual(await versions('bookings', ids), before, 'a second copy rewrites no row');
});

function ownBooking(showtimeId: string, seats: { seatId: string; price: string }[]): NewBooking {
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const snapshot: ShowtimeSnapshot = {
    showtime_id: showtimeId, movie_id: randomUUID(), movie_title: 'New Film', theater_id: randomUUID(), theater_name: 'Annex', screen: null, city: 'Da Nang',
    start_time: '2031-03-01T12:00:00.000Z', end_time: '2031-03-01T14:00:00.000Z', base_price: '100000.00', currency: 'USD', status: 'scheduled',
  };
  return {
    id: randomUUID(), userId: randomUUID(), userEmail: `new-${randomUUID().slice(0, 6)}@example.com`, showtimeId, snapshot, currency: 'USD',
    totalPrice: `${seats.reduce((n, s) => n + Number(s.price), 0)}.00`, expiresAt: new Date(now.getTime() + 600_000), createdAt: now,
    seats: [...seats].sort((a, b) => (a.seatId < b.seatId ? -1 : 1)).map((s, i) => ({ ...s, row: 'D', number: i + 1, type: s.price === '100000.00' ? 'standard' : 'vip' })),
  };
}

test.serial('own bookings → legacy: the legacy store reads back what the own store wrote; the old seat counter follows', async (t) => {
  const { made } = await oldBookings();
  await copy('own', made.map((m) => m.id));
  // a new booking of an old showtime (in the shared tables), a cancelled one of a showtime only movie's schema has
  const old = made[1]!;
  const kept = ownBooking(old.showtimeId, [{ seatId: randomUUID(), price: '100000.00' }, { seatId: randomUUID(), price: '150000.00' }]);
  const cancelled = ownBooking(randomUUID(), [{ seatId: randomUUID(), price: '100000.00' }]);
  await bookingDb().transaction(async (trx) => {
    for (const b of [kept, cancelled]) await ownStore.insertPending(trx, b);
    await ownStore.finish(trx, cancelled.id, 'cancelled', 'the customer changed plans');
  });
  const ids = [kept.id, cancelled.id];
  t.is(await copy('legacy', ids), 2);
  for (const id of ids) t.deepEqual(await legacyStore.findById(bookingDb(), id), await ownStore.findById(bookingDb(), id));
  t.like(await legacyStore.findById(bookingDb(), cancelled.id), { status: 'cancelled', cancelReason: 'the customer changed plans', currency: 'USD' });
  t.deepEqual(await compareSides(fx.admin, mapping), []);

  // theater seats (10) minus the seats of pending or confirmed bookings: the old booking's two (confirmed) and the new two
  const { available_seats } = (await fx.admin('public.showtimes').where({ id: old.showtimeId }).first('available_seats')) as { available_seats: number };
  t.is(available_seats, 6);

  const before = await versions('public', ids);
  await copy('legacy', ids);
  t.deepEqual(await versions('public', ids), before, 'a second copy rewrites no row');
});
