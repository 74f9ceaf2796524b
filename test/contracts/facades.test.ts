import test from 'ava';
import { createRemoteAuthFacade } from '../../src/modules/auth/index.ts';
import { createRemoteBookingFacade } from '../../src/modules/booking/index.ts';
import { createRemotePaymentFacade } from '../../src/modules/payment/index.ts';
import { ServiceCredential } from '../../src/platform/auth/service-credential.ts';
import { ServiceUnavailableError } from '../../src/platform/errors.ts';
import { InternalClient } from '../../src/platform/http/internal-client.ts';
import { startTestApp, TEST_INTERNAL_API_SECRET, type TestApp } from '../helpers/app.ts';
import { forgeUsers } from '../helpers/catalog.ts';
import { legacyBooking, legacyDb, pay } from '../modules/payment/fixtures.ts';
import { authFacadeContract } from './auth-facade.contract.ts';
import { bookingFacadeContract } from './booking-facade.contract.ts';
import { paymentFacadeContract } from './payment-facade.contract.ts';

// Every facade another module uses, on both adapters, against one app that hosts them all
// (movie's contract runs in test/modules/movie/movie-facade.test.ts; notification offers none).
let host: TestApp;
test.before(async () => {
  host = await startTestApp({ env: { FLAGS_BOOTSTRAP: 'use_rs256_tokens=true' } });
});
test.after.always(async () => {
  await host?.stop();
});

const client = (target: string, secret = TEST_INTERNAL_API_SECRET) =>
  new InternalClient({ target, baseUrl: host.url, credential: new ServiceCredential({ secret, caller: 'payment' }) });

authFacadeContract(test, 'in-process', () => ({ facade: host.app.auth!.facade, host }));
authFacadeContract(test, 'remote', () => ({ facade: createRemoteAuthFacade(client('auth')), host }));
bookingFacadeContract(test, 'in-process', () => ({ facade: host.app.booking!.facade, host }));
bookingFacadeContract(test, 'remote', () => ({ facade: createRemoteBookingFacade(client('booking')), host }));
paymentFacadeContract(test, 'in-process', () => ({ facade: host.app.payment!.facade, host }));
paymentFacadeContract(test, 'remote', () => ({ facade: createRemotePaymentFacade(client('payment')), host }));

test('remote adapters with another deployment\'s credential: refused by the internal API, a 503 naming the service', async (t) => {
  const other = 'another-deployments-secret-0123456789abcdef';
  const id = '00000000-0000-4000-8000-000000000000';
  await t.throwsAsync(createRemoteBookingFacade(client('booking', other)).getBookingForPayment(id), { instanceOf: ServiceUnavailableError, message: /booking service answered 401/ });
  await t.throwsAsync(createRemotePaymentFacade(client('payment', other)).getPayment(id), { instanceOf: ServiceUnavailableError, message: /payment service answered 401/ });
});

test('a payment process without booking asks booking over HTTP (SERVICE_URL_BOOKING) for a booking whose snapshot is late', async (t) => {
  const split = await startTestApp({
    db: host.db,
    env: {
      ROLE: 'web', MODULES: 'payment', SERVICE_URL_AUTH: host.url, SERVICE_URL_BOOKING: host.url,
      FLAGS_BOOTSTRAP: 'use_booking_snapshot=true,use_rs256_tokens=true', PAYMENT_SNAPSHOT_WAIT_MS: '100',
    },
  });
  t.teardown(() => split.stop());
  const [user] = await forgeUsers(host, 1);
  // written straight into booking's store: no booking.created event, so payment has no snapshot of it
  const b = await legacyBooking(legacyDb(host), { userId: user!.id, totalPrice: '77000.00' });
  const res = await pay(split, { token: user!.token, bookingId: b.bookingId });
  t.is(res.status, 201, JSON.stringify(res.body));
  t.like(res.body, { amount: '77000.00', booking_id: b.bookingId });
  t.regex(await split.app.metrics.registry.getSingleMetricAsString('payment_booking_snapshot_waits_total'), /result="asked_booking"\} 1/);
});
