import type { ExecutionContext, TestFn } from 'ava';
import type { MovieFacade } from '../../../src/modules/movie/index.ts';
import { api, type TestApp } from '../../helpers/app.ts';
import { createCatalog } from '../../helpers/catalog.ts';

export interface FacadeFixture {
  facade: MovieFacade;
  /** the app hosting movie, and an admin token for it (the catalog is written over its HTTP API) */
  host: TestApp;
  admin: string;
}

/** One contract for every MovieFacade adapter (in-process, remote over HTTP): booking sees the same. */
export function movieFacadeContract(test: TestFn, name: string, fixture: () => FacadeFixture): void {
  const t = (title: string, fn: (t: ExecutionContext, f: FacadeFixture) => Promise<void>) => test(`${name}: ${title}`, (tc) => fn(tc, fixture()));

  t('snapshot of a showtime: movie, theater, times, base price and currency (seed §8.4.3)', async (tc, f) => {
    const c = await createCatalog(f.host, f.admin, { rows: 1, perRow: 2, basePrice: '120000' });
    const showtime = (await api(f.host.url, 'GET', `/api/v1/showtimes/${c.showtimeId}`)).body;
    const movie = (await api(f.host.url, 'GET', `/api/v1/movies/${c.movieId}`)).body;
    const theater = (await api(f.host.url, 'GET', `/api/v1/theaters/${c.theaterId}`)).body;
    tc.regex(theater.name, /^Screen [0-9a-f]{6}$/);
    tc.deepEqual(await f.facade.getShowtimeSnapshot(c.showtimeId), {
      showtime_id: c.showtimeId, movie_id: c.movieId, movie_title: movie.title, theater_id: c.theaterId, theater_name: theater.name,
      screen: theater.name, city: 'Hanoi', start_time: showtime.start_time, end_time: showtime.end_time,
      base_price: '120000.00', currency: 'VND', status: 'scheduled',
    });
  });

  t('seat layout: every seat of the theater with its price at this showtime, in row order', async (tc, f) => {
    const c = await createCatalog(f.host, f.admin, { rows: 2, perRow: 2, basePrice: 80000, types: { B: 'vip' } });
    const layout = await f.facade.getSeatLayout(c.showtimeId);
    tc.deepEqual(layout?.map((s) => `${s.row}${s.number}:${s.type}:${s.price}`), ['A1:standard:80000.00', 'A2:standard:80000.00', 'B1:vip:80000.00', 'B2:vip:80000.00']);
    tc.deepEqual(layout?.map((s) => s.seat_id), c.seatIds);
  });

  t('a cancelled showtime is still described, with status cancelled', async (tc, f) => {
    const c = await createCatalog(f.host, f.admin, { rows: 1, perRow: 1 });
    await api(f.host.url, 'POST', `/api/v1/showtimes/${c.showtimeId}/cancel`, { token: f.admin });
    tc.is((await f.facade.getShowtimeSnapshot(c.showtimeId))?.status, 'cancelled');
  });

  t('an unknown or malformed showtime id is undefined, not an error', async (tc, f) => {
    tc.is(await f.facade.getShowtimeSnapshot('00000000-0000-4000-8000-000000000000'), undefined);
    tc.is(await f.facade.getSeatLayout('00000000-0000-4000-8000-000000000000'), undefined);
    tc.is(await f.facade.getShowtimeSnapshot('not-a-uuid'), undefined);
    tc.is(await f.facade.getSeatLayout('../../etc'), undefined);
  });
}
