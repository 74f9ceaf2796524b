import { randomUUID } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { CATALOG_STORE_METHODS, type CatalogStore } from '../../../src/modules/movie/internal/catalog-store.ts';
import { createLegacyCatalogStore } from '../../../src/modules/movie/internal/legacy-catalog-store.ts';
import { createOwnCatalogStore } from '../../../src/modules/movie/internal/own-catalog-store.ts';
import { createMovieMapping } from '../../../src/modules/movie/index.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { compareSides, createStranglerRig, useMappingDatabase } from '../../helpers/strangler.ts';

const fx = useMappingDatabase(test);

// the template database's mappings were installed with DEFAULT_CURRENCY VND
const mapping = createMovieMapping({ legacySchema: 'public', defaultCurrency: 'VND' });
const legacyStore = createLegacyCatalogStore('public', 'VND');
const ownStore = createOwnCatalogStore();
const movieDb = () => fx.databases.forModule('movie');
const copy = (aggregate: string, to: 'own' | 'legacy', keys: string[]) =>
  fx.databases.forRole('migration', 'migration').raw(`SELECT migration.movie__${aggregate}_copy_to_${to}(?::uuid[]) AS n`, [keys]);

/** The same reads through both stores must answer the same records. */
async function sameReads(t: ExecutionContext, ids: { movies: string[]; theaters: string[]; showtimes: string[] }, stores: [CatalogStore, CatalogStore] = [legacyStore, ownStore]) {
  const both = <T>(read: (s: CatalogStore) => Promise<T>): Promise<[T, T]> => Promise.all([read(stores[0]), read(stores[1])]);
  for (const id of ids.movies) {
    const [l, o] = await both((s) => s.findMovie(movieDb(), id));
    t.truthy(l);
    t.deepEqual(l, o, `movie ${id}`);
  }
  for (const id of ids.theaters) {
    const [l, o] = await both((s) => s.findTheater(movieDb(), id));
    t.truthy(l);
    t.deepEqual(l, o, `theater ${id}`);
    const [ls, os] = await both((s) => s.listSeats(movieDb(), id));
    t.true(ls.length > 0);
    t.deepEqual(ls, os, `seats of ${id}`);
  }
  for (const id of ids.showtimes) {
    const [l, o] = await both((s) => s.findShowtime(movieDb(), id));
    t.truthy(l);
    t.deepEqual(l, o, `showtime ${id}`);
    const [lm, om] = await both((s) => s.seatStates(movieDb(), id));
    t.deepEqual(Object.fromEntries(lm), Object.fromEntries(om), `seat states of ${id}`);
    const [la, oa] = await both((s) => s.affectedBookings(movieDb(), id));
    t.deepEqual(la.sort(), oa.sort(), `affected bookings of ${id}`);
  }
}

const xmins = async (schema: string, ids: { movies: string[]; theaters: string[]; showtimes: string[] }) => {
  const q = async (sql: string, keys: string[]) => ((await fx.admin.raw(sql, [keys])) as { rows: { x: string }[] }).rows.map((r) => r.x).join(',');
  return {
    movies: await q(`SELECT id || ':' || xmin AS x FROM "${schema}".movies WHERE id = ANY(?::uuid[]) ORDER BY id`, ids.movies),
    theaters: await q(`SELECT id || ':' || xmin AS x FROM "${schema}".theaters WHERE id = ANY(?::uuid[]) ORDER BY id`, ids.theaters),
    seats: await q(`SELECT id || ':' || xmin AS x FROM "${schema}".seats WHERE theater_id = ANY(?::uuid[]) ORDER BY id`, ids.theaters),
    showtimes: await q(`SELECT id || ':' || xmin AS x FROM "${schema}".showtimes WHERE id = ANY(?::uuid[]) ORDER BY id`, ids.showtimes),
    ...(schema === 'movies'
      ? { seatAvailability: await q(`SELECT seat_id || ':' || xmin AS x FROM movies.seat_availability WHERE showtime_id = ANY(?::uuid[]) ORDER BY showtime_id, seat_id`, ids.showtimes) }
      : {}),
  };
};

test.serial('legacy rows written the old way copy to own: both stores read the same, a second copy changes nothing', async (t) => {
  const legacy = fx.databases.forRole('legacy', 'public');
  const [m1, m2, t1, t2, s1, s2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  // what the old system wrote: no timestamps, no seat types, no currency/tier prices/updated_at (added later)
  await legacy.table('movies').insert([
    { id: m1, title: 'Old Bare', duration_minutes: 120, created_at: null, updated_at: null },
    { id: m2, title: 'Old Full', description: 'd', duration_minutes: 95, genre: 'Drama', rating: 'PG', release_date: '2019-03-04', poster_url: 'https://x.test/p.jpg', created_at: '2019-03-04 05:06:07.123456', updated_at: null },
  ]);
  await legacy.table('theaters').insert([
    { id: t1, name: 'Old Hall', location: null, total_seats: 4, created_at: null },
    { id: t2, name: 'Old Hall 2', location: 'Hanoi', total_seats: 2, created_at: '2018-01-01 00:00:00' },
  ]);
  const seat = (theater: string, row: string, n: number, type: string | null) => ({ id: randomUUID(), theater_id: theater, row_label: row, seat_number: n, seat_type: type });
  const seats1 = [seat(t1, 'A', 1, null), seat(t1, 'A', 2, 'vip'), seat(t1, 'B', 1, null), seat(t1, 'B', 2, 'premium')];
  await legacy.table('seats').insert([...seats1, seat(t2, 'A', 1, 'standard'), seat(t2, 'A', 2, null)]);
  await legacy.table('showtimes').insert([
    { id: s1, movie_id: m1, theater_id: t1, start_time: '2031-01-01 10:00', end_time: '2031-01-01 12:00', price: '75000', available_seats: 2, created_at: null },
    { id: s2, movie_id: m2, theater_id: t2, start_time: '2031-01-02 10:00', end_time: '2031-01-02 11:40', price: '60000.5', available_seats: 2,
      created_at: '2024-01-01 00:00:00', cancelled_at: '2024-01-02 03:04:05', cancel_reason: 'storm' },
  ]);
  // a held, a sold and a cancelled booking of s1, as the old booking service wrote them
  const booking = async (status: string, seatId: string, expires: string | null) => {
    const id = randomUUID();
    await legacy.table('bookings').insert({ id, user_id: randomUUID(), showtime_id: s1, status, total_price: 75000, expires_at: expires });
    await legacy.table('booking_seats').insert({ booking_id: id, seat_id: seatId, showtime_id: s1 });
    return id;
  };
  await booking('pending', seats1[1]!.id, '2099-01-01 00:00:00');
  await booking('confirmed', seats1[2]!.id, null);
  await booking('cancelled', seats1[0]!.id, null);

  // copying the showtimes brings the movies and theaters they reference
  await copy('showtimes', 'own', [s1, s2]);
  const ids = { movies: [m1, m2], theaters: [t1, t2], showtimes: [s1, s2] };
  await sameReads(t, ids);
  t.like(await ownStore.findShowtime(movieDb(), s1), { currency: 'VND', tierPrices: {}, status: 'scheduled', totalSeats: 4, availableSeats: 2, createdAt: new Date(0) });
  t.like(await ownStore.findShowtime(movieDb(), s2), { status: 'cancelled', cancelReason: 'storm', basePrice: '60000.50' });
  t.is((await fx.admin('movies.seat_availability').where({ showtime_id: s1 }).count({ n: '*' }))[0]!.n, '4', 'the copied showtime has its seat map');
  t.deepEqual(await compareSides(fx.admin, mapping), []);

  const before = await xmins('movies', ids);
  for (const [aggregate, keys] of [['movies', ids.movies], ['theaters', ids.theaters], ['showtimes', ids.showtimes]] as const) await copy(aggregate, 'own', keys);
  t.deepEqual(await xmins('movies', ids), before, 'a second copy rewrote nothing');
});

test.serial('rows the own store wrote copy to legacy: the legacy store reads them back the same', async (t) => {
  const db0 = movieDb();
  const movie = await ownStore.insertMovie(db0, { id: randomUUID(), title: 'New', description: null, durationMinutes: 100, genre: null, rating: 'R', releaseDate: '2030-01-01', posterUrl: null });
  const theaterId = randomUUID();
  const seats = ['standard', 'standard', 'vip', 'premium'].map((type, i) => ({ id: randomUUID(), theaterId, row: i < 2 ? 'A' : 'B', number: (i % 2) + 1, type }));
  await db0.transaction((trx) => ownStore.insertTheater(trx, { id: theaterId, name: 'New Hall', city: 'Hue', seats }));
  const start = new Date(Date.UTC(2032, 0, 1, 18));
  const show = (id: string, offsetHours: number) => ({
    id, movieId: movie.id, theaterId, startTime: new Date(start.getTime() + offsetHours * 3_600_000), endTime: new Date(start.getTime() + (offsetHours + 2) * 3_600_000),
    basePrice: '9999999999.99', currency: 'USD', tierPrices: { vip: '20.00' }, totalSeats: seats.length,
  });
  const [s1, s2] = [randomUUID(), randomUUID()];
  await ownStore.insertShowtime(db0, show(s1, 0));
  await ownStore.insertShowtime(db0, show(s2, 3));
  const cancelled = await ownStore.cancelShowtime(db0, s2, 'sold out of popcorn');

  await copy('showtimes', 'legacy', [s1, s2]);
  const ids = { movies: [movie.id], theaters: [theaterId], showtimes: [s1, s2] };
  await sameReads(t, ids);
  const rows = (await fx.admin('public.showtimes').whereIn('id', [s1, s2]).orderBy('start_time').select('currency', 'available_seats', 'cancelled_at')) as { currency: string; available_seats: number; cancelled_at: Date | null }[];
  t.deepEqual(rows.map((r) => [r.currency, r.available_seats]), [['USD', 4], ['USD', 4]]);
  const own = (await fx.admin('movies.showtimes').where({ id: s2 }).first('updated_at')) as { updated_at: Date };
  t.deepEqual(rows[1]!.cancelled_at, own.updated_at, 'cancelled when the own row last changed');
  t.is(cancelled?.status, 'cancelled');
  t.deepEqual(await compareSides(fx.admin, mapping), []);

  const before = await xmins('public', ids);
  await copy('showtimes', 'legacy', [s1, s2]);
  t.deepEqual(await xmins('public', ids), before, 'a second copy rewrote nothing');

  // a later change of the cancelled showtime keeps the legacy cancellation time
  await fx.admin.raw(`UPDATE movies.showtimes SET cancel_reason = 'storm', updated_at = updated_at + interval '1 hour' WHERE id = ?`, [s2]);
  await copy('showtimes', 'legacy', [s2]);
  const after = (await fx.admin('public.showtimes').where({ id: s2 }).first('cancelled_at', 'cancel_reason')) as { cancelled_at: Date; cancel_reason: string };
  t.deepEqual(after, { cancelled_at: rows[1]!.cancelled_at!, cancel_reason: 'storm' });
});

test.serial('READ_NEW: writes go to the own schema first and the capture triggers keep the legacy tables equal', async (t) => {
  const rig = await createStranglerRig(fx.db, { dual_write_movie_db: true, read_from_new_movie_db: true });
  try {
    t.like(rig.strangler.router.describe('movie'), { phase: 'READ_NEW', writes: 'own' });
    const routed = rig.strangler.router.route({ module: 'movie', name: 'catalog', legacy: legacyStore, own: ownStore, methods: CATALOG_STORE_METHODS });
    const conn = rig.databases.forModule('movie');
    const movie = await routed.insertMovie(conn, { id: randomUUID(), title: 'Routed', description: null, durationMinutes: 90, genre: null, rating: null, releaseDate: null, posterUrl: null });
    const theaterId = randomUUID();
    const seats = [1, 2, 3].map((n) => ({ id: randomUUID(), theaterId, row: 'C', number: n, type: n === 3 ? 'vip' : 'standard' }));
    await conn.transaction((trx) => routed.insertTheater(trx, { id: theaterId, name: 'Routed Hall', city: null, seats }));
    const id = randomUUID();
    const start = new Date(Date.UTC(2033, 0, 1, 18));
    await conn.transaction(async (trx) => {
      t.truthy(await routed.lockTheater(trx, theaterId));
      await routed.insertShowtime(trx, { id, movieId: movie.id, theaterId, startTime: start, endTime: new Date(start.getTime() + 7_200_000), basePrice: '50.00', currency: 'EUR', tierPrices: {}, totalSeats: 3 });
    });
    await routed.updateShowtime(conn, id, { tierPrices: { vip: '70.00' } });
    await routed.cancelShowtime(conn, id, 'strike');
    await sameReads(t, { movies: [movie.id], theaters: [theaterId], showtimes: [id] });
    t.like(await legacyStore.findShowtime(conn, id), { currency: 'EUR', tierPrices: { vip: '70.00' }, status: 'cancelled', cancelReason: 'strike', availableSeats: 3 });
    t.deepEqual(await compareSides(fx.admin, mapping), []);
  } finally {
    await rig.close();
  }
});
