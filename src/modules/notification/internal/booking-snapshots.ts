import type { Db } from '../../../platform/db.ts';

/** What booking.created said about a booking, for the later events that carry ids only. */
export interface BookingSnapshot {
  bookingId: string;
  userId: string;
  userEmail: string | null;
  movieTitle: string | null;
  theaterName: string | null;
  screen: string | null;
  startTime: Date | null;
  /** seat labels, e.g. A1 */
  seats: string[];
  totalPrice: string | null;
  currency: string | null;
}

interface Row {
  booking_id: string;
  user_id: string;
  user_email: string | null;
  movie_title: string | null;
  theater_name: string | null;
  screen: string | null;
  start_time: Date | null;
  seats: string[];
  total_price: string | null;
  currency: string | null;
}

const toRecord = (r: Row): BookingSnapshot => ({
  bookingId: r.booking_id,
  userId: r.user_id,
  userEmail: r.user_email,
  movieTitle: r.movie_title,
  theaterName: r.theater_name,
  screen: r.screen,
  startTime: r.start_time,
  seats: r.seats,
  totalPrice: r.total_price,
  currency: r.currency,
});

/** notifications.booking_snapshots (seed 002 §6.4: the notification domain stores what events told it). */
export function createBookingSnapshots(schema = 'notifications') {
  const table = (db: Db) => db.withSchema(schema).table<Row>('booking_snapshots');
  return {
    async save(db: Db, s: BookingSnapshot): Promise<void> {
      await table(db)
        .insert({
          booking_id: s.bookingId,
          user_id: s.userId,
          user_email: s.userEmail,
          movie_title: s.movieTitle,
          theater_name: s.theaterName,
          screen: s.screen,
          start_time: s.startTime,
          seats: s.seats,
          total_price: s.totalPrice,
          currency: s.currency,
        })
        .onConflict('booking_id')
        .ignore();
    },
    async get(db: Db, bookingId: string): Promise<BookingSnapshot | undefined> {
      const row = (await table(db).where({ booking_id: bookingId }).first()) as Row | undefined;
      return row ? toRecord(row) : undefined;
    },
    async getMany(db: Db, bookingIds: string[]): Promise<BookingSnapshot[]> {
      if (bookingIds.length === 0) return [];
      return ((await table(db).whereIn('booking_id', bookingIds)) as Row[]).map(toRecord);
    },
  };
}

export type BookingSnapshots = ReturnType<typeof createBookingSnapshots>;
