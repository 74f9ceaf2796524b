import { randomUUID } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import type { Knex } from '../../../src/platform/db.ts';
import { DuplicateSeatError } from '../../../src/modules/movie/internal/errors.ts';
import type { CatalogStore } from '../../../src/modules/movie/internal/catalog-store.ts';
import type { NewShowtime, SeatRecord } from '../../../src/modules/movie/internal/types.ts';

export interface CatalogFixture {
  store: CatalogStore;
  /** the movie module's pool (its role) */
  db: Knex;
  /** mark seats of a showtime held (pending booking) or sold (confirmed) the way this store learns it */
  takeSeats(showtimeId: string, seatIds: string[], status: 'held' | 'sold'): Promise<string>;
}

const seatsFor = (theaterId: string, rows: string[], perRow: number): SeatRecord[] =>
  rows.flatMap((row) => Array.from({ length: perRow }, (_, i) => ({ id: randomUUID(), theaterId, row, number: i + 1, type: row === 'B' ? 'vip' : 'standard' })));

/** One behavioural contract for every CatalogStore (legacy shared tables, own movie schema). */
export function catalogStoreContract(test: TestFn, name: string, fixture: () => CatalogFixture): void {
  const t = (title: string, fn: (t: ExecutionContext, f: CatalogFixture) => Promise<void>) => test(`${name}: ${title}`, (tc) => fn(tc, fixture()));

  async function theaterWithShowtime(f: CatalogFixture, overrides: Partial<NewShowtime> = {}) {
    const movie = await f.store.insertMovie(f.db, {
      id: randomUUID(), title: `M ${randomUUID().slice(0, 6)}`, description: null, durationMinutes: 100, genre: 'Drama', rating: 'PG',
      releaseDate: '2026-02-03', posterUrl: null,
    });
    const theaterId = randomUUID();
    const seats = seatsFor(theaterId, ['A', 'B'], 3);
    const theater = await f.store.insertTheater(f.db, { id: theaterId, name: `T ${theaterId.slice(0, 6)} - Screen 3`, city: 'Da Nang', seats });
    const start = new Date(Date.UTC(2031, 0, 1, 10) + Math.floor(Math.random() * 1e6) * 60_000);
    const showtime = await f.store.insertShowtime(f.db, {
      id: randomUUID(), movieId: movie.id, theaterId, startTime: start, endTime: new Date(start.getTime() + 100 * 60_000),
      basePrice: '75000.00', currency: 'VND', tierPrices: {}, totalSeats: seats.length, ...overrides,
    });
    return { movie, theater, seats, showtime };
  }

  t('movies: insert, find by id and title, update only what is named', async (tc, f) => {
    const id = randomUUID();
    const created = await f.store.insertMovie(f.db, {
      id, title: `Contract ${id}`, description: 'd', durationMinutes: 91, genre: 'Horror', rating: 'R', releaseDate: '2025-10-31', posterUrl: 'https://x.test/p.jpg',
    });
    tc.like(created, { id, durationMinutes: 91, genre: 'Horror', releaseDate: '2025-10-31', posterUrl: 'https://x.test/p.jpg' });
    tc.true(created.createdAt instanceof Date);
    tc.is((await f.store.findMovieByTitle(f.db, `contract ${id}`.toUpperCase()))?.id, id);
    const updated = await f.store.updateMovie(f.db, id, { rating: 'PG-13', releaseDate: null });
    tc.like(updated, { rating: 'PG-13', releaseDate: null, genre: 'Horror', durationMinutes: 91 });
    tc.is(await f.store.updateMovie(f.db, randomUUID(), { rating: 'G' }), undefined);
    tc.is(await f.store.findMovie(f.db, randomUUID()), undefined);
  });

  t('movies: list filters by genre and title substring (wildcards literal) and pages', async (tc, f) => {
    const tag = randomUUID().slice(0, 8);
    for (const title of [`${tag} alpha`, `${tag} beta`, `${tag} gam%ma`]) {
      await f.store.insertMovie(f.db, { id: randomUUID(), title, description: null, durationMinutes: 90, genre: `G${tag}`, rating: null, releaseDate: null, posterUrl: null });
    }
    const all = await f.store.listMovies(f.db, { genre: `g${tag}` }, { limit: 2, offset: 0 });
    tc.is(all.total, 3);
    tc.deepEqual(all.items.map((m) => m.title), [`${tag} alpha`, `${tag} beta`]);
    tc.deepEqual((await f.store.listMovies(f.db, { genre: `g${tag}` }, { limit: 2, offset: 2 })).items.map((m) => m.title), [`${tag} gam%ma`]);
    tc.deepEqual((await f.store.listMovies(f.db, { q: `${tag} gam%` }, { limit: 10, offset: 0 })).items.map((m) => m.title), [`${tag} gam%ma`]);
    tc.is((await f.store.listMovies(f.db, { q: `${tag}%a` }, { limit: 10, offset: 0 })).total, 0);
  });

  t('theaters: insert with seats (ordered row, number), city filter, duplicate seat refused', async (tc, f) => {
    const id = randomUUID();
    const seats = seatsFor(id, ['B', 'A'], 2);
    const th = await f.store.insertTheater(f.db, { id, name: `Hall ${id}`, city: `City ${id}`, seats });
    tc.like(th, { id, city: `City ${id}`, totalSeats: 4 });
    tc.deepEqual((await f.store.listSeats(f.db, id)).map((s) => `${s.row}${s.number}:${s.type}`), ['A1:standard', 'A2:standard', 'B1:vip', 'B2:vip']);
    tc.deepEqual((await f.store.listTheaters(f.db, { city: `city ${id}` }, { limit: 5, offset: 0 })).items.map((x) => x.id), [id]);
    tc.is((await f.store.findTheaterByName(f.db, `Hall ${id}`))?.id, id);
    tc.like(await f.store.updateTheater(f.db, id, { city: null }), { city: null, name: `Hall ${id}` });
    const dupId = randomUUID();
    const dup = [{ id: randomUUID(), theaterId: dupId, row: 'A', number: 1, type: 'standard' }, { id: randomUUID(), theaterId: dupId, row: 'A', number: 1, type: 'standard' }];
    await tc.throwsAsync(f.db.transaction((trx) => f.store.insertTheater(trx, { id: dupId, name: 'dup', city: null, seats: dup })), { instanceOf: DuplicateSeatError });
    tc.is(await f.store.findTheater(f.db, dupId), undefined);
  });

  t('showtimes: insert, find, update, list by movie and window, overlap detection', async (tc, f) => {
    const { movie, theater, showtime } = await theaterWithShowtime(f);
    tc.like(showtime, { movieId: movie.id, theaterId: theater.id, basePrice: '75000.00', currency: 'VND', status: 'scheduled', totalSeats: 6, availableSeats: 6, cancelReason: null });
    const s = showtime.startTime.getTime();
    tc.deepEqual(await f.store.overlappingShowtimes(f.db, theater.id, new Date(s + 60_000), new Date(s + 120_000)), [showtime.id]);
    tc.deepEqual(await f.store.overlappingShowtimes(f.db, theater.id, showtime.endTime, new Date(s + 200 * 60_000)), [], 'back to back is not overlap');
    tc.deepEqual(await f.store.overlappingShowtimes(f.db, theater.id, showtime.startTime, showtime.endTime, showtime.id), []);
    const moved = await f.store.updateShowtime(f.db, showtime.id, { basePrice: '80000.50', startTime: new Date(s + 3_600_000), endTime: new Date(s + 7_200_000) });
    tc.like(moved, { basePrice: '80000.50' });
    tc.is(moved?.startTime.getTime(), s + 3_600_000);
    const listed = await f.store.listShowtimes(f.db, { movieId: movie.id, from: new Date(s), to: new Date(s + 86_400_000) }, { limit: 10, offset: 0 });
    tc.deepEqual(listed.items.map((x) => x.id), [showtime.id]);
    tc.is((await f.store.listShowtimes(f.db, { movieId: movie.id, from: new Date(s + 86_400_000) }, { limit: 10, offset: 0 })).total, 0);
  });

  t('showtimes keep their currency and tier prices, and a price change of a tier', async (tc, f) => {
    const { showtime } = await theaterWithShowtime(f, { basePrice: '12.50', currency: 'USD', tierPrices: { vip: '20.00' } });
    tc.like(showtime, { basePrice: '12.50', currency: 'USD', tierPrices: { vip: '20.00' } });
    const repriced = await f.store.updateShowtime(f.db, showtime.id, { tierPrices: { vip: '22.00', premium: '15.00' } });
    tc.deepEqual(repriced?.tierPrices, { vip: '22.00', premium: '15.00' });
    tc.like(await f.store.findShowtime(f.db, showtime.id), { currency: 'USD', basePrice: '12.50', tierPrices: { vip: '22.00', premium: '15.00' } });
    // ten integer digits, as the API accepts
    tc.is((await f.store.updateShowtime(f.db, showtime.id, { basePrice: '9999999999.99' }))?.basePrice, '9999999999.99');
  });

  t('lockTheater reads the theater and holds its row until the transaction ends', async (tc, f) => {
    const { theater } = await theaterWithShowtime(f);
    tc.is(await f.store.lockTheater(f.db, randomUUID()), undefined);
    await f.db.transaction(async (trx) => {
      tc.like(await f.store.lockTheater(trx, theater.id), { id: theater.id, totalSeats: 6 });
      // another transaction cannot take the row meanwhile
      const other = f.db.transaction(async (trx2) => {
        await trx2.raw(`SET LOCAL lock_timeout = '100ms'`);
        return f.store.lockTheater(trx2, theater.id);
      });
      await tc.throwsAsync(other, { message: /lock timeout/ });
    });
    tc.is((await f.store.findTheater(f.db, theater.id))?.id, theater.id);
  });

  t('cancel: once; afterwards listed only on request, and it no longer blocks the theater', async (tc, f) => {
    const { movie, theater, showtime } = await theaterWithShowtime(f);
    const cancelled = await f.store.cancelShowtime(f.db, showtime.id, 'storm');
    tc.like(cancelled, { status: 'cancelled', cancelReason: 'storm' });
    tc.is(await f.store.cancelShowtime(f.db, showtime.id, 'again'), undefined);
    tc.is((await f.store.listShowtimes(f.db, { movieId: movie.id }, { limit: 5, offset: 0 })).total, 0);
    tc.is((await f.store.listShowtimes(f.db, { movieId: movie.id, includeCancelled: true }, { limit: 5, offset: 0 })).total, 1);
    tc.deepEqual(await f.store.overlappingShowtimes(f.db, theater.id, showtime.startTime, showtime.endTime), []);
  });

  t('seat states: held and sold seats and their bookings; affected bookings; available count', async (tc, f) => {
    const { seats, showtime } = await theaterWithShowtime(f);
    tc.is((await f.store.seatStates(f.db, showtime.id)).size, 0);
    const held = await f.takeSeats(showtime.id, [seats[0]!.id, seats[1]!.id], 'held');
    const sold = await f.takeSeats(showtime.id, [seats[4]!.id], 'sold');
    const states = await f.store.seatStates(f.db, showtime.id);
    tc.deepEqual(Object.fromEntries([...states].map(([k, v]) => [k, v])), {
      [seats[0]!.id]: { status: 'held', bookingId: held },
      [seats[1]!.id]: { status: 'held', bookingId: held },
      [seats[4]!.id]: { status: 'sold', bookingId: sold },
    });
    tc.deepEqual((await f.store.affectedBookings(f.db, showtime.id)).sort(), [held, sold].sort());
    tc.is((await f.store.findShowtime(f.db, showtime.id))?.availableSeats, 3);
  });

  t('writes inside a rolled-back transaction leave nothing', async (tc, f) => {
    const id = randomUUID();
    const inserted: string[] = [];
    const rolledBack = f.db.transaction(async (trx) => {
      inserted.push((await f.store.insertMovie(trx, { id, title: 'ghost', description: null, durationMinutes: 1, genre: null, rating: null, releaseDate: null, posterUrl: null })).id);
      throw new Error('planned rollback');
    });
    // the insert itself must have worked: only the planned error may end the transaction
    await tc.throwsAsync(rolledBack, { message: 'planned rollback' });
    tc.deepEqual(inserted, [id]);
    tc.is(await f.store.findMovie(f.db, id), undefined);
  });
}
