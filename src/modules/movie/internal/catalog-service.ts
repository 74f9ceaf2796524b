import { randomUUID } from 'node:crypto';
import type { Knex } from '../../../platform/db.ts';
import { transactionWithRetry } from '../../../platform/db-retry.ts';
import type { CatalogCache } from './catalog-cache.ts';
import { MovieNotFoundError, TheaterNotFoundError } from './errors.ts';
import type { CreateMovieInput, CreateTheaterInput, UpdateMovieInput } from './schemas.ts';
import type { CatalogStore } from './catalog-store.ts';
import type { MovieFilter, Page, SeatRecord } from './types.ts';
import { toMovieView, toTheaterView, type MovieView, type TheaterView } from './views.ts';

export interface CatalogServiceDeps {
  db: Knex;
  store: CatalogStore;
  cache: CatalogCache;
}

export interface PagedView<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

const keyOf = (parts: Record<string, unknown>) => JSON.stringify(parts);

/** Movies and theaters: admin writes (which invalidate the cache after commit) and cached reads. */
export class CatalogService {
  private readonly d: CatalogServiceDeps;

  constructor(deps: CatalogServiceDeps) {
    this.d = deps;
  }

  async createMovie(input: CreateMovieInput): Promise<MovieView> {
    const movie = await this.d.store.insertMovie(this.d.db, {
      id: randomUUID(),
      title: input.title,
      description: input.description ?? null,
      durationMinutes: input.duration_minutes,
      genre: input.genre ?? null,
      rating: input.rating ?? null,
      releaseDate: input.release_date ?? null,
      posterUrl: input.poster_url ?? null,
    });
    await this.d.cache.invalidate();
    return toMovieView(movie);
  }

  async updateMovie(id: string, input: UpdateMovieInput): Promise<MovieView> {
    const movie = await this.d.store.updateMovie(this.d.db, id, {
      ...(input.title !== undefined ? { title: input.title } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.duration_minutes !== undefined ? { durationMinutes: input.duration_minutes } : {}),
      ...(input.genre !== undefined ? { genre: input.genre } : {}),
      ...(input.rating !== undefined ? { rating: input.rating } : {}),
      ...(input.release_date !== undefined ? { releaseDate: input.release_date } : {}),
      ...(input.poster_url !== undefined ? { posterUrl: input.poster_url } : {}),
    });
    if (!movie) throw new MovieNotFoundError();
    await this.d.cache.invalidate();
    return toMovieView(movie);
  }

  async getMovie(id: string): Promise<MovieView> {
    const view = await this.d.cache.get(keyOf({ movie: id }), async () => {
      const movie = await this.d.store.findMovie(this.d.db, id);
      return movie ? toMovieView(movie) : undefined;
    });
    if (!view) throw new MovieNotFoundError();
    return view;
  }

  async findMovieByTitle(title: string): Promise<MovieView | undefined> {
    const movie = await this.d.store.findMovieByTitle(this.d.db, title);
    return movie ? toMovieView(movie) : undefined;
  }

  listMovies(filter: MovieFilter, page: Page): Promise<PagedView<MovieView>> {
    return this.d.cache.get(keyOf({ movies: filter, page }), async () => {
      const { items, total } = await this.d.store.listMovies(this.d.db, filter, page);
      return { items: items.map(toMovieView), total, ...page };
    });
  }

  /** Seats are numbered 1..n in each row of the layout, in the order given. */
  async createTheater(input: CreateTheaterInput): Promise<TheaterView> {
    const id = randomUUID();
    const seats: SeatRecord[] = input.layout.rows.flatMap((r) =>
      Array.from({ length: r.seats }, (_, i) => ({ id: randomUUID(), theaterId: id, row: r.row, number: i + 1, type: r.type })),
    );
    const theater = await transactionWithRetry(this.d.db, (trx) => this.d.store.insertTheater(trx, { id, name: input.name, city: input.city ?? null, seats }));
    await this.d.cache.invalidate();
    return toTheaterView(theater, seats);
  }

  async updateTheater(id: string, input: { name?: string | undefined; city?: string | null | undefined }): Promise<TheaterView> {
    const theater = await this.d.store.updateTheater(this.d.db, id, {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.city !== undefined ? { city: input.city } : {}),
    });
    if (!theater) throw new TheaterNotFoundError();
    await this.d.cache.invalidate();
    return toTheaterView(theater, await this.d.store.listSeats(this.d.db, id));
  }

  async getTheater(id: string): Promise<TheaterView> {
    const view = await this.d.cache.get(keyOf({ theater: id }), async () => {
      const theater = await this.d.store.findTheater(this.d.db, id);
      return theater ? toTheaterView(theater, await this.d.store.listSeats(this.d.db, id)) : undefined;
    });
    if (!view) throw new TheaterNotFoundError();
    return view;
  }

  async findTheaterByName(name: string): Promise<TheaterView | undefined> {
    const theater = await this.d.store.findTheaterByName(this.d.db, name);
    return theater ? toTheaterView(theater, await this.d.store.listSeats(this.d.db, theater.id)) : undefined;
  }

  listTheaters(filter: { city?: string | undefined }, page: Page): Promise<PagedView<TheaterView>> {
    return this.d.cache.get(keyOf({ theaters: filter, page }), async () => {
      const { items, total } = await this.d.store.listTheaters(this.d.db, filter, page);
      return { items: items.map((t) => toTheaterView(t)), total, ...page };
    });
  }
}
