import type { Db } from '../../../platform/db.ts';

export const SEAT_TYPES = ['standard', 'premium', 'vip'] as const;
export type SeatType = (typeof SEAT_TYPES)[number];
export type SeatStatus = 'available' | 'held' | 'sold';
export type ShowtimeStatus = 'scheduled' | 'cancelled';

export interface MovieRecord {
  id: string;
  title: string;
  description: string | null;
  durationMinutes: number;
  genre: string | null;
  rating: string | null;
  /** YYYY-MM-DD */
  releaseDate: string | null;
  posterUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewMovie = Omit<MovieRecord, 'createdAt' | 'updatedAt'>;
export type MoviePatch = Partial<Omit<NewMovie, 'id'>>;

export interface TheaterRecord {
  id: string;
  name: string;
  city: string | null;
  totalSeats: number;
  createdAt: Date;
}

export interface SeatRecord {
  id: string;
  theaterId: string;
  row: string;
  number: number;
  /** also the seat's price tier */
  type: string;
}

export interface NewTheater {
  id: string;
  name: string;
  city: string | null;
  seats: SeatRecord[];
}

export interface ShowtimeRecord {
  id: string;
  movieId: string;
  theaterId: string;
  startTime: Date;
  endTime: Date;
  /** exact decimal string, two places */
  basePrice: string;
  currency: string;
  /** price per seat type where it differs from basePrice */
  tierPrices: Record<string, string>;
  status: ShowtimeStatus;
  cancelReason: string | null;
  totalSeats: number;
  availableSeats: number;
  createdAt: Date;
}

export type NewShowtime = Omit<ShowtimeRecord, 'status' | 'cancelReason' | 'availableSeats' | 'createdAt'>;
export type ShowtimePatch = Partial<Pick<ShowtimeRecord, 'startTime' | 'endTime' | 'basePrice' | 'tierPrices'>>;

export interface Page {
  limit: number;
  offset: number;
}

export interface Paged<T> {
  items: T[];
  total: number;
}

export interface MovieFilter {
  genre?: string | undefined;
  rating?: string | undefined;
  /** case-insensitive substring of the title */
  q?: string | undefined;
}

export interface ShowtimeFilter {
  movieId?: string | undefined;
  theaterId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  includeCancelled?: boolean | undefined;
}

/** A seat that is not available, and the booking holding it. */
export interface SeatState {
  status: Exclude<SeatStatus, 'available'>;
  bookingId: string | null;
}

/**
 * Where the catalog lives: the legacy shared tables or the movie schema. Both pass
 * test/modules/movie/movie-store.contract.ts. Every method takes the pool or an open transaction.
 */
export interface CatalogStore {
  readonly kind: 'legacy' | 'own';
  insertMovie(db: Db, movie: NewMovie): Promise<MovieRecord>;
  updateMovie(db: Db, id: string, patch: MoviePatch): Promise<MovieRecord | undefined>;
  findMovie(db: Db, id: string): Promise<MovieRecord | undefined>;
  findMovieByTitle(db: Db, title: string): Promise<MovieRecord | undefined>;
  listMovies(db: Db, filter: MovieFilter, page: Page): Promise<Paged<MovieRecord>>;

  insertTheater(db: Db, theater: NewTheater): Promise<TheaterRecord>;
  updateTheater(db: Db, id: string, patch: { name?: string; city?: string | null }): Promise<TheaterRecord | undefined>;
  /** with `lock`, the row is locked FOR UPDATE (serializes showtime scheduling in one theater) */
  findTheater(db: Db, id: string, lock?: boolean): Promise<TheaterRecord | undefined>;
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
