import { createHash } from 'node:crypto';
import type { BookingSnapshot } from './booking-snapshots.ts';
import type { BookingCreatedView } from './event-views.ts';
import type { TemplateVars } from './template-renderer.ts';

/**
 * The id of the notification an event produces for one subject (a user, or a booking when one event
 * concerns several): a UUID derived from (event id, notification type, subject). A replayed event — even
 * one that slipped past the inbox — lands on the same id, and the insert is a no-op. The id is also the
 * BullMQ job id and the mail's Message-ID, so every layer recognises a duplicate.
 */
export function notificationId(eventId: string, type: string, subject: string): string {
  const h = createHash('sha256').update(`${eventId}|${type}|${subject}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80; // version 8: application-defined
  h[8] = (h[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `2026-01-24 19:00 UTC` — unambiguous without knowing the reader's zone. */
export function formatInstant(value: Date | string | null | undefined): string {
  if (!value) return '';
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export const formatMoney = (amount: string | null | undefined, currency: string | null | undefined): string =>
  amount ? `${amount}${currency ? ` ${currency}` : ''}` : '';

/** The booking reference customers see (as the old service printed it). */
export const bookingRef = (bookingId: string): string => bookingId.slice(0, 8).toUpperCase();

/** booking.created's payload as the snapshot later events read. */
export function snapshotFromBookingCreated(p: BookingCreatedView): BookingSnapshot {
  const s = p.showtime_snapshot;
  return {
    bookingId: p.booking_id,
    userId: p.user_id,
    userEmail: p.user_email || null,
    movieTitle: s?.movie_title ?? null,
    theaterName: s?.theater_name ?? null,
    screen: s?.screen ?? null,
    startTime: s?.start_time ? new Date(s.start_time) : null,
    seats: (p.seats ?? []).map((seat) => (seat.row !== undefined && seat.number !== undefined ? `${seat.row}${seat.number}` : (seat.seat_id ?? '?'))),
    totalPrice: p.total_price ?? null,
    currency: p.currency ?? null,
  };
}

/** Variables every booking-related template may use; sensible words when booking.created was never seen. */
export function bookingVars(bookingId: string, s: BookingSnapshot | undefined): TemplateVars {
  const venue = [s?.theaterName, s?.screen].filter(Boolean).join(', ');
  return {
    booking_id: bookingId,
    booking_ref: bookingRef(bookingId),
    movie_title: s?.movieTitle ?? 'your booking',
    theater_name: s?.theaterName ?? '',
    venue,
    start_time: formatInstant(s?.startTime),
    seats: s?.seats.join(', ') ?? '',
    seat_count: String(s?.seats.length ?? 0),
    total: formatMoney(s?.totalPrice, s?.currency),
  };
}

/** The variables each event type's template may use (also what the template checks validate against). */
export const TEMPLATE_VARIABLES: Record<string, readonly string[]> = (() => {
  const common = ['name', 'email'];
  const booking = [...common, 'booking_id', 'booking_ref', 'movie_title', 'theater_name', 'venue', 'start_time', 'seats', 'seat_count', 'total'];
  const payment = [...booking, 'amount', 'payment_ref', 'transaction_id', 'reason'];
  return {
    'user.created': common,
    'booking.created': [...booking, 'expires_at'],
    'booking.confirmed': booking,
    'booking.cancelled': [...booking, 'reason', 'refund_note'],
    'booking.expired': booking,
    'payment.completed': payment,
    'payment.failed': payment,
    'payment.refunded': payment,
    'showtime.cancelled': [...booking, 'reason'],
  };
})();
