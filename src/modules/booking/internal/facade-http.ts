import { Router } from '@koa/router';
import { z } from 'zod';
import type { InternalClient } from '../../../platform/http/internal-client.ts';
import type { HttpState } from '../../../platform/http/app.ts';
import { BookingNotFoundError } from './errors.ts';
import type { BookingForPayment } from './views.ts';

/** booking's one facade read (BookingFacade in index.ts) */
interface BookingReads {
  getBookingForPayment(bookingId: string): Promise<BookingForPayment | undefined>;
}

/**
 * Booking's facade over HTTP, both ends: the internal route a split-out booking serves (behind the
 * service credential, like every /internal/ path) and the adapter a process without booking uses
 * (SERVICE_URL_BOOKING). Both ends share one wire shape, so the remote answer is the in-process one.
 */
const wire = z.object({
  booking_id: z.uuid(),
  user_id: z.uuid(),
  status: z.enum(['pending', 'confirmed', 'cancelled', 'expired']),
  total_price: z.string().regex(/^\d+\.\d{2}$/),
  currency: z.string().length(3),
  expires_at: z.iso.datetime({ offset: true }).nullable(),
});

const PREFIX = '/internal/v1/booking/bookings';
const path = (id: string) => `${PREFIX}/${encodeURIComponent(id)}/for-payment`;

export function createBookingInternalRoutes(facade: BookingReads): Router<HttpState> {
  const internal = new Router<HttpState>();
  internal.get(`${PREFIX}/:id/for-payment`, async (ctx) => {
    const b = await facade.getBookingForPayment(ctx.params['id'] ?? '');
    if (!b) throw new BookingNotFoundError();
    ctx.body = {
      booking_id: b.bookingId, user_id: b.userId, status: b.status, total_price: b.totalPrice, currency: b.currency,
      expires_at: b.expiresAt?.toISOString() ?? null,
    } satisfies z.input<typeof wire>;
  });
  return internal;
}

export function createRemoteBookingReads(client: InternalClient): BookingReads {
  return {
    async getBookingForPayment(bookingId): Promise<BookingForPayment | undefined> {
      const b = await client.get(path(bookingId), wire);
      return b && {
        bookingId: b.booking_id, userId: b.user_id, status: b.status, totalPrice: b.total_price, currency: b.currency,
        expiresAt: b.expires_at === null ? null : new Date(b.expires_at),
      };
    },
  };
}
