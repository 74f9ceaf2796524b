import type { MovieRecord, SeatRecord, SeatStatus, ShowtimeRecord, TheaterRecord } from './types.ts';

export interface MovieView {
  id: string;
  title: string;
  description: string | null;
  duration_minutes: number;
  genre: string | null;
  rating: string | null;
  release_date: string | null;
  poster_url: string | null;
  created_at: string;
  updated_at: string;
}

export interface SeatView {
  id: string;
  row: string;
  number: number;
  type: string;
}

export interface TheaterView {
  id: string;
  name: string;
  city: string | null;
  total_seats: number;
  created_at: string;
  seats?: SeatView[];
}

export interface ShowtimeView {
  id: string;
  movie_id: string;
  theater_id: string;
  start_time: string;
  end_time: string;
  base_price: string;
  currency: string;
  tier_prices: Record<string, string>;
  status: 'scheduled' | 'cancelled';
  cancel_reason: string | null;
  total_seats: number;
  available_seats: number;
  created_at: string;
}

/** What booking keeps of a showtime (seed 002 §4.3, §8.4.3 showtime_snapshot). Money as exact strings. */
export interface ShowtimeSnapshot {
  showtime_id: string;
  movie_id: string;
  movie_title: string;
  theater_id: string;
  theater_name: string;
  screen: string | null;
  city: string | null;
  start_time: string;
  end_time: string;
  base_price: string;
  currency: string;
  status: 'scheduled' | 'cancelled';
}

/** A seat of a showtime with what it costs there. */
export interface PricedSeat {
  seat_id: string;
  row: string;
  number: number;
  type: string;
  price: string;
}

export interface SeatMapEntry extends PricedSeat {
  status: SeatStatus;
}

export const toMovieView = (m: MovieRecord): MovieView => ({
  id: m.id,
  title: m.title,
  description: m.description,
  duration_minutes: m.durationMinutes,
  genre: m.genre,
  rating: m.rating,
  release_date: m.releaseDate,
  poster_url: m.posterUrl,
  created_at: m.createdAt.toISOString(),
  updated_at: m.updatedAt.toISOString(),
});

export const toSeatView = (s: SeatRecord): SeatView => ({ id: s.id, row: s.row, number: s.number, type: s.type });

export const toTheaterView = (t: TheaterRecord, seats?: SeatRecord[]): TheaterView => ({
  id: t.id,
  name: t.name,
  city: t.city,
  total_seats: t.totalSeats,
  created_at: t.createdAt.toISOString(),
  ...(seats ? { seats: seats.map(toSeatView) } : {}),
});

export const toShowtimeView = (s: ShowtimeRecord): ShowtimeView => ({
  id: s.id,
  movie_id: s.movieId,
  theater_id: s.theaterId,
  start_time: s.startTime.toISOString(),
  end_time: s.endTime.toISOString(),
  base_price: s.basePrice,
  currency: s.currency,
  tier_prices: s.tierPrices,
  status: s.status,
  cancel_reason: s.cancelReason,
  total_seats: s.totalSeats,
  available_seats: s.availableSeats,
  created_at: s.createdAt.toISOString(),
});

/** "CGV Vincom - Screen 5" → "Screen 5" (the old tables name a screen inside the theater's name). */
export const screenOf = (theaterName: string): string | null => /\bScreen\s+\S+$/i.exec(theaterName)?.[0] ?? null;

/** The price of a seat at a showtime: its tier's price if the showtime sets one, else the base price. */
export const priceOf = (showtime: ShowtimeRecord, seat: SeatRecord): string => showtime.tierPrices[seat.type] ?? showtime.basePrice;

export const toSnapshot = (s: ShowtimeRecord, movie: MovieRecord, theater: TheaterRecord): ShowtimeSnapshot => ({
  showtime_id: s.id,
  movie_id: movie.id,
  movie_title: movie.title,
  theater_id: theater.id,
  theater_name: theater.name,
  screen: screenOf(theater.name),
  city: theater.city,
  start_time: s.startTime.toISOString(),
  end_time: s.endTime.toISOString(),
  base_price: s.basePrice,
  currency: s.currency,
  status: s.status,
});
