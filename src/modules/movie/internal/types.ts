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
