import type { Db, Knex } from '../../../platform/db.ts';
import { countRows, likePattern } from './sql.ts';
import type { CatalogStore } from './catalog-store.ts';
import type { MovieRecord } from './types.ts';

/** A `movies` row. The legacy table and the movie schema's share these columns; the legacy timestamps may be null. */
interface MovieRow {
  id: string; title: string; description: string | null; duration_minutes: number; genre: string | null; rating: string | null;
  release_date_text: string | null; poster_url: string | null; created_at: Date | null; updated_at: Date | null;
}

const EPOCH = new Date(0);
const COLUMNS = ['id', 'title', 'description', 'duration_minutes', 'genre', 'rating', 'poster_url', 'created_at', 'updated_at'];

const toMovie = (r: MovieRow): MovieRecord => ({
  id: r.id,
  title: r.title,
  description: r.description,
  durationMinutes: r.duration_minutes,
  genre: r.genre,
  rating: r.rating,
  releaseDate: r.release_date_text,
  posterUrl: r.poster_url,
  createdAt: r.created_at ?? EPOCH,
  updatedAt: r.updated_at ?? r.created_at ?? EPOCH,
});

type MovieMethods = Pick<CatalogStore, 'insertMovie' | 'updateMovie' | 'findMovie' | 'findMovieByTitle' | 'listMovies'>;

/** The movie half of a catalog store: the same SQL on the legacy `movies` table and on `movies.movies`. */
export function movieMethods(schema: string): MovieMethods {
  const t = (db: Db) => db.withSchema(schema).table('movies');
  const select = (db: Db) => t(db).select(COLUMNS).select(db.raw(`to_char(release_date, 'YYYY-MM-DD') AS release_date_text`));
  const findMovie = async (db: Db, id: string) => {
    const row = (await select(db).where({ id }).first()) as MovieRow | undefined;
    return row ? toMovie(row) : undefined;
  };
  return {
    findMovie,
    async insertMovie(db, m) {
      await t(db).insert({
        id: m.id, title: m.title, description: m.description, duration_minutes: m.durationMinutes, genre: m.genre,
        rating: m.rating, release_date: m.releaseDate, poster_url: m.posterUrl,
      });
      return (await findMovie(db, m.id))!;
    },
    async updateMovie(db, id, p) {
      const n = await t(db).where({ id }).update({
        ...(p.title !== undefined ? { title: p.title } : {}),
        ...(p.description !== undefined ? { description: p.description } : {}),
        ...(p.durationMinutes !== undefined ? { duration_minutes: p.durationMinutes } : {}),
        ...(p.genre !== undefined ? { genre: p.genre } : {}),
        ...(p.rating !== undefined ? { rating: p.rating } : {}),
        ...(p.releaseDate !== undefined ? { release_date: p.releaseDate } : {}),
        ...(p.posterUrl !== undefined ? { poster_url: p.posterUrl } : {}),
        updated_at: new Date(),
      });
      return n ? findMovie(db, id) : undefined;
    },
    async findMovieByTitle(db, title) {
      // a legacy row without created_at reads as the epoch, so it comes first on both sides
      const row = (await select(db).whereRaw('lower(title) = lower(?)', [title]).orderByRaw('created_at NULLS FIRST, id').first()) as MovieRow | undefined;
      return row ? toMovie(row) : undefined;
    },
    async listMovies(db, f, page) {
      const filtered = <Q extends Knex.QueryBuilder>(q: Q): Q => {
        if (f.genre) q.whereRaw('lower(genre) = lower(?)', [f.genre]);
        if (f.rating) q.where('rating', f.rating);
        if (f.q) q.whereRaw(`title ILIKE ? ESCAPE '\\'`, [likePattern(f.q)]);
        return q;
      };
      const total = await countRows(filtered(t(db)));
      const rows = (await filtered(select(db)).orderBy('title').orderBy('id').limit(page.limit).offset(page.offset)) as MovieRow[];
      return { items: rows.map(toMovie), total };
    },
  };
}
