import type { ShowtimeSnapshot } from '../../movie/index.ts';
import type { BookingRecord, BookingStatus } from './types.ts';

export interface BookingView {
  id: string;
  user_id: string;
  status: BookingStatus;
  showtime_id: string;
  showtime: ShowtimeSnapshot;
  seats: { seat_id: string; row: string; number: number; type: string; price: string }[];
  total_price: string;
  currency: string;
  expires_at: string | null;
  cancel_reason: string | null;
  created_at: string;
  updated_at: string;
}

export const toBookingView = (b: BookingRecord): BookingView => ({
  id: b.id,
  user_id: b.userId,
  status: b.status,
  showtime_id: b.showtimeId,
  showtime: b.snapshot,
  seats: b.seats.map((s) => ({ seat_id: s.seatId, row: s.row, number: s.number, type: s.type, price: s.price })),
  total_price: b.totalPrice,
  currency: b.currency,
  expires_at: b.expiresAt?.toISOString() ?? null,
  cancel_reason: b.cancelReason,
  created_at: b.createdAt.toISOString(),
  updated_at: b.updatedAt.toISOString(),
});

/** What payment needs of a booking it has no snapshot of yet. */
export interface BookingForPayment {
  bookingId: string;
  userId: string;
  status: 'pending' | 'confirmed' | 'cancelled' | 'expired';
  /** exact decimal string */
  totalPrice: string;
  currency: string;
  expiresAt: Date | null;
}
