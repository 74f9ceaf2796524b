import { randomUUID } from 'node:crypto';
import { CATALOG_STORE_METHODS, type CatalogStore } from '../../../src/modules/movie/internal/catalog-store.ts';
import { createLegacyCatalogStore } from '../../../src/modules/movie/internal/legacy-catalog-store.ts';
import { createOwnCatalogStore } from '../../../src/modules/movie/internal/own-catalog-store.ts';
import type { SeatRecord } from '../../../src/modules/movie/internal/types.ts';
import type { WriteExercise } from '../../migration/write-exercise.ts';

const seatsOf = (theaterId: string, rows: [string, number, string][]): SeatRecord[] =>
  rows.flatMap(([row, n, type]) => Array.from({ length: n }, (_, i) => ({ id: randomUUID(), theaterId, row, number: i + 1, type })));

/** Every write of movie's catalog store, through the routed store (test/migration/write-coverage.test.ts). */
export const writeExercises: WriteExercise[] = [
  {
    module: 'movie',
    // the test template's mappings read legacy rows without a currency as VND (DEFAULT_CURRENCY)
    store: ({ legacySchema }) => ({ module: 'movie', name: 'catalog', legacy: createLegacyCatalogStore(legacySchema, 'VND'), own: createOwnCatalogStore(), methods: CATALOG_STORE_METHODS }),
    async exercise(store, db) {
      const catalog = store as CatalogStore;
      const movieId = randomUUID();
      await catalog.insertMovie(db, { id: movieId, title: `Write ${movieId}`, description: null, durationMinutes: 95, genre: 'Drama', rating: null, releaseDate: '2026-03-01', posterUrl: null });
      await catalog.updateMovie(db, movieId, { rating: 'PG', description: 'now described', releaseDate: null });

      const theaterId = randomUUID();
      const seats = seatsOf(theaterId, [['A', 3, 'standard'], ['B', 2, 'vip']]);
      // as the catalog service creates a theater: the root row and its seats in one transaction
      await db.transaction((trx) => catalog.insertTheater(trx, { id: theaterId, name: `Hall ${theaterId}`, city: 'Hue', seats }));
      await catalog.updateTheater(db, theaterId, { city: null, name: `Hall ${theaterId} renamed` });

      const start = new Date(Date.UTC(2032, 4, 1, 18));
      const hour = 3_600_000;
      const [plain, priced] = [randomUUID(), randomUUID()];
      // as the showtime service schedules: the theater locked, then the showtime written, in one transaction
      await db.transaction(async (trx) => {
        await catalog.lockTheater(trx, theaterId);
        await catalog.insertShowtime(trx, { id: plain, movieId, theaterId, startTime: start, endTime: new Date(start.getTime() + 2 * hour), basePrice: '90000.00', currency: 'VND', tierPrices: {}, totalSeats: seats.length });
      });
      await catalog.insertShowtime(db, {
        id: priced, movieId, theaterId, startTime: new Date(start.getTime() + 3 * hour), endTime: new Date(start.getTime() + 5 * hour),
        basePrice: '9.50', currency: 'USD', tierPrices: { vip: '14.00' }, totalSeats: seats.length,
      });
      await catalog.updateShowtime(db, plain, { basePrice: '95000.00', tierPrices: { vip: '120000.00' }, startTime: new Date(start.getTime() - hour), endTime: new Date(start.getTime() + hour) });
      await catalog.cancelShowtime(db, priced, 'projector broke');
    },
  } satisfies WriteExercise<CatalogStore> as WriteExercise,
];
