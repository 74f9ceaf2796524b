import type { TestFn } from 'ava';
import type { BookingFacade } from '../../src/modules/booking/index.ts';
import { legacyBooking, legacyDb, legacyUser } from '../modules/payment/fixtures.ts';
import { contractCases, type FacadeFixture } from './facade-contract.ts';

export type BookingFixture = FacadeFixture<BookingFacade>;

/** One contract for every BookingFacade adapter (in-process, remote over HTTP): payment sees the same. */
export function bookingFacadeContract(test: TestFn, name: string, fixture: () => BookingFixture): void {
  const t = contractCases(test, `booking facade, ${name}`, fixture);

  t('a pending booking: owner, exact price, currency and expiry', async (tc, f) => {
    const userId = await legacyUser(legacyDb(f.host));
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 600_000);
    const b = await legacyBooking(legacyDb(f.host), { userId, totalPrice: '180000.50', expiresAt });
    tc.deepEqual(await f.facade.getBookingForPayment(b.bookingId), {
      bookingId: b.bookingId, userId, status: 'pending', totalPrice: '180000.50', currency: 'VND', expiresAt,
    });
  });

  t('an ended booking keeps its status; no expiry is null', async (tc, f) => {
    const userId = await legacyUser(legacyDb(f.host));
    const b = await legacyBooking(legacyDb(f.host), { userId, status: 'cancelled', expiresAt: null });
    tc.like(await f.facade.getBookingForPayment(b.bookingId), { status: 'cancelled', expiresAt: null });
  });

  t('an unknown or malformed booking id is undefined, not an error', async (tc, f) => {
    tc.is(await f.facade.getBookingForPayment('00000000-0000-4000-8000-000000000000'), undefined);
    tc.is(await f.facade.getBookingForPayment('not-a-uuid'), undefined);
    tc.is(await f.facade.getBookingForPayment('../../payments'), undefined);
  });
}
