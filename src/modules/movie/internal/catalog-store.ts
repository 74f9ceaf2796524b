import type { Db } from '../../../platform/db.ts';
import type { StoreMethods } from '../../../platform/mapping/store-routing.ts';
import type {
  MovieFilter, MoviePatch, MovieRecord, NewMovie, NewShowtime, NewTheater, Page, Paged, SeatRecord, SeatState, ShowtimeFilter,
  ShowtimePatch, ShowtimeRecord, TheaterRecord,
} from './types.ts';

/**
 * Where the catalog lives. Two implementations: the legacy shared tables and the movie schema's own.
 * Both pass test/modules/movie/movie-store.contract.ts. Every method takes the pool or an open
 * transaction. Copying the catalog between the two (dual-write, backfill, repair) is the mapping's job
 * (movie-mapping.ts), not the store's.
 */
export interface CatalogStore {
  insertMovie(db: Db, movie: NewMovie): Promise<MovieRecord>;
  updateMovie(db: Db, id: string, patch: MoviePatch): Promise<MovieRecord | undefined>;
  findMovie(db: Db, id: string): Promise<MovieRecord | undefined>;
  findMovieByTitle(db: Db, title: string): Promise<MovieRecord | undefined>;
  listMovies(db: Db, filter: MovieFilter, page: Page): Promise<Paged<MovieRecord>>;

  insertTheater(db: Db, theater: NewTheater): Promise<TheaterRecord>;
  updateTheater(db: Db, id: string, patch: { name?: string; city?: string | null }): Promise<TheaterRecord | undefined>;
  findTheater(db: Db, id: string): Promise<TheaterRecord | undefined>;
  /** the theater, its row locked FOR UPDATE until the transaction ends (serializes showtime scheduling in one theater) */
  lockTheater(db: Db, id: string): Promise<TheaterRecord | undefined>;
  findTheaterByName(db: Db, name: string): Promise<TheaterRecord | undefined>;
  listTheaters(db: Db, filter: { city?: string | undefined }, page: Page): Promise<Paged<TheaterRecord>>;
  /** ordered by row, then number */
  listSeats(db: Db, theaterId: string): Promise<SeatRecord[]>;

  /** the own store also opens the showtime's seat_availability rows */
  insertShowtime(db: Db, showtime: NewShowtime): Promise<ShowtimeRecord>;
  updateShowtime(db: Db, id: string, patch: ShowtimePatch): Promise<ShowtimeRecord | undefined>;
  cancelShowtime(db: Db, id: string, reason: string): Promise<ShowtimeRecord | undefined>;
  findShowtime(db: Db, id: string): Promise<ShowtimeRecord | undefined>;
  listShowtimes(db: Db, filter: ShowtimeFilter, page: Page): Promise<Paged<ShowtimeRecord>>;
  /** scheduled showtimes of the theater overlapping [start, end) */
  overlappingShowtimes(db: Db, theaterId: string, start: Date, end: Date, excludeId?: string): Promise<string[]>;
  /** seats that are held or sold (legacy: from the shared booking tables; own: seat_availability) */
  seatStates(db: Db, showtimeId: string): Promise<Map<string, SeatState>>;
  /** bookings that hold or bought seats of the showtime */
  affectedBookings(db: Db, showtimeId: string): Promise<string[]>;
}

/**
 * A showtime's free seats come from the booking side on each store — the legacy counter the old booking
 * service (and booking's legacy store) maintains, or movie's projection of booking events — and the two
 * catch up with a booking at different moments, so shadow reads do not compare them.
 */
const SHOWTIME_READ = { read: 'showtimes', ignore: ['availableSeats'] };

/** How the routing store may route each method (src/platform/mapping/store-routing.ts). */
export const CATALOG_STORE_METHODS: StoreMethods<CatalogStore> = {
  insertMovie: 'write',
  updateMovie: 'write',
  findMovie: { read: 'movies' },
  findMovieByTitle: { read: 'movies' },
  listMovies: { read: 'movies' },
  insertTheater: 'write',
  updateTheater: 'write',
  findTheater: { read: 'theaters' },
  lockTheater: 'lock',
  findTheaterByName: { read: 'theaters' },
  listTheaters: { read: 'theaters' },
  // seats are children of a theater, not aggregates of their own
  listSeats: 'read',
  insertShowtime: 'write',
  updateShowtime: 'write',
  cancelShowtime: 'write',
  findShowtime: SHOWTIME_READ,
  listShowtimes: SHOWTIME_READ,
  overlappingShowtimes: 'read',
  // projections of booking data on each side (see SHOWTIME_READ): compared as read, a lag shows as a mismatch
  seatStates: 'read',
  affectedBookings: 'read',
};
