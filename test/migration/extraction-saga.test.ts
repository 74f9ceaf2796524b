import { randomBytes } from 'node:crypto';
import test from 'ava';
import { api, registerAndLogin, startTestApp, type TestApp } from '../helpers/app.ts';
import { adminToken, createCatalog, type Catalog } from '../helpers/catalog.ts';
import { freePort, startChildApp, type ChildApp } from '../helpers/child-app.ts';
import { createTestVhost, waitFor, type TestVhost } from '../helpers/events.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { pay as payOver } from '../modules/payment/fixtures.ts';

/**
 * Booking split out (issue 10): the monolith hosts auth, movie, payment and notification; booking runs in a
 * process of its own (`node src/main.ts` with MODULES=booking) on the same Postgres and RabbitMQ. Clients
 * talk to the monolith only; it routes /api/v1/bookings to the booking deployment. The choreographed
 * saga crosses the two processes through the broker: booking.created (booking's relay) → movie holds the
 * seats and payment keeps a snapshot (monolith) → payment.completed / payment.failed (monolith's relay)
 * → booking confirms or cancels (booking's consumer) → movie sells or releases the seats; expiry runs in
 * the booking process's sweeper.
 */
const SAGA_FLAGS = [
  'publish_booking_events', 'publish_payment_events', 'publish_seat_events', 'use_payment_events', 'consume_booking_events',
  'use_booking_snapshot', 'use_per_seat_locks', 'use_rs256_tokens', 'use_local_jwt',
  // booking is EXTRACTED: its routes go to its deployment (the monolith no longer hosts it)
  'route_booking_to_service',
].map((f) => `${f}=true`).join(',');

let vhost: TestVhost;
let monolith: TestApp;
let booking: ChildApp;
let admin: string;
let catalog: Catalog;
const logs = captureLogs('info');

test.before(async () => {
  vhost = await createTestVhost();
  const shared = {
    AMQP_URL: vhost.url,
    EVENTS_RELAY_POLL_MS: '100',
    EVENTS_RETRY_DELAYS_MS: '100,200',
    FLAGS_BOOTSTRAP: SAGA_FLAGS,
    STORE_MOVIE: 'own',
    STORE_BOOKING: 'own',
    STORE_PAYMENT: 'own',
  };
  const bookingPort = await freePort();
  monolith = await startTestApp({
    logger: logs.logger,
    env: { ...shared, MODULES: 'auth,movie,payment,notification', SERVICE_URL_BOOKING: `http://127.0.0.1:${bookingPort}`, DB_POOL_MAX: '3' },
  });
  booking = await startChildApp({
    ...shared,
    MODULES: 'booking',
    DATABASE_URL: monolith.db.url,
    REDIS_KEY_PREFIX: monolith.env['REDIS_KEY_PREFIX']!,
    SERVICE_URL_AUTH: monolith.url,
    SERVICE_URL_MOVIE: monolith.url,
    // the monolith in front: its X-Forwarded-For is the client's address (throttles, audit)
    TRUST_PROXY: 'true',
    BOOKING_SWEEP_INTERVAL_MS: '200',
    DB_POOL_MAX: '3',
  }, { port: bookingPort });
  admin = await adminToken(monolith);
  catalog = await createCatalog(monolith, admin, { rows: 2, perRow: 5, basePrice: '100000' });
});
test.after.always(async () => {
  await booking?.stop();
  await monolith?.stop();
  await vhost?.drop();
});

const movies = () => monolith.app.databases.forModule('movie').withSchema('movies');
const seatsAre = (seatIds: string[], status: string, bookingId: string | null) =>
  waitFor(`seats ${status} for ${bookingId ?? 'nobody'}`, async () => {
    const rows = (await movies().table('seat_availability').where({ showtime_id: catalog.showtimeId }).whereIn('seat_id', seatIds)) as { status: string; booking_id: string | null }[];
    return (rows.length === seatIds.length && rows.every((r) => r.status === status && r.booking_id === bookingId)) || undefined;
  }, 30_000);
const statusIs = (token: string, bookingId: string, status: string) =>
  waitFor(`booking ${bookingId} ${status}`, async () => {
    const res = await api(monolith.url, 'GET', `/api/v1/bookings/${bookingId}`, { token });
    return res.body?.status === status ? res.body : undefined;
  }, 30_000);
const snapshotReady = (bookingId: string) =>
  waitFor('payment\'s booking snapshot', async () => monolith.app.databases.forModule('payment').withSchema('payments').table('booking_snapshots').where({ booking_id: bookingId }).first(), 30_000);

async function book(token: string, seatIds: string[], correlation = `saga-${randomBytes(4).toString('hex')}`) {
  const res = await api(monolith.url, 'POST', '/api/v1/bookings', { token, headers: { 'x-correlation-id': correlation }, body: { showtime_id: catalog.showtimeId, seat_ids: seatIds } });
  if (res.status !== 201) throw new Error(`booking: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...(res.body as { id: string; status: string; total_price: string }), correlation };
}

test.serial('book → pay → confirmed: the saga completes across the two processes, each request logged where it ran', async (t) => {
  const user = await registerAndLogin(monolith.url, 'split');
  const seats = catalog.seatIds.slice(0, 2);
  const b = await book(user.access, seats);
  t.is(b.status, 'pending');
  await seatsAre(seats, 'held', b.id);
  await snapshotReady(b.id);
  const paid = await payOver(monolith, { token: user.access, bookingId: b.id, card: 'tok_success' });
  const paidAt = performance.now();
  t.is(paid.status, 201, JSON.stringify(paid.body));
  t.like(paid.body, { status: 'completed', amount: b.total_price });
  await statusIs(user.access, b.id, 'confirmed');
  t.log(`payment 201 → confirmed as read through the monolith from the booking process: ${Math.round(performance.now() - paidAt)} ms`);
  await seatsAre(seats, 'sold', b.id);
  t.like(await monolith.app.databases.forModule('booking').withSchema('bookings').table('saga_state').where({ booking_id: b.id }).first(), { current_step: 'confirmed', status: 'completed' });

  // the monolith logged the request as routed; the booking process logged it as served, same correlation id
  t.like(logs.lines.find((l) => l['correlation_id'] === b.correlation && l.msg === 'request'), { routed_to: 'booking-service', status: 201 });
  await waitFor('the booking process\'s log line', () => booking.lines.find((l) => l['correlation_id'] === b.correlation && l['msg'] === 'request'));
  t.like(booking.lines.find((l) => l['correlation_id'] === b.correlation && l['msg'] === 'request'), { path: '/api/v1/bookings', status: 201, method: 'POST' });
  // booking's consumer ran in the booking process (it logged nothing wrong), and the monolith hosts no booking module
  t.is(monolith.app.booking, undefined);
  const again = await api(monolith.url, 'POST', '/api/v1/bookings', { token: user.access, body: { showtime_id: catalog.showtimeId, seat_ids: seats } });
  t.is(again.status, 409, 'sold seats cannot be booked through the split service either');
});

test.serial('a declined payment cancels the booking in the booking process and frees the seats', async (t) => {
  const user = await registerAndLogin(monolith.url, 'split');
  const seats = catalog.seatIds.slice(2, 5);
  const b = await book(user.access, seats);
  await seatsAre(seats, 'held', b.id);
  await snapshotReady(b.id);
  const paid = await payOver(monolith, { token: user.access, bookingId: b.id, card: 'tok_decline' });
  t.true([201, 402].includes(paid.status), JSON.stringify(paid.body));
  await statusIs(user.access, b.id, 'cancelled');
  await seatsAre(seats, 'available', null);
  const other = await registerAndLogin(monolith.url, 'split');
  t.is((await book(other.access, seats)).status, 'pending', 'the compensation freed the seats for real');
});

test.serial('a booking past its hold expires in the booking process\'s sweeper; a late payment is refused', async (t) => {
  const user = await registerAndLogin(monolith.url, 'split');
  const seats = catalog.seatIds.slice(5, 7);
  const b = await book(user.access, seats);
  await seatsAre(seats, 'held', b.id);
  // the hold ran out (the sweeper in the booking process finds it on its next pass)
  await monolith.app.databases.forModule('booking').withSchema('bookings').table('bookings').where({ id: b.id }).update({ expires_at: new Date(Date.now() - 1_000) });
  await statusIs(user.access, b.id, 'expired');
  await seatsAre(seats, 'available', null);
  const late = await payOver(monolith, { token: user.access, bookingId: b.id, card: 'tok_success' });
  t.true(late.status >= 400 && late.status < 500, `paying an expired booking is refused: ${late.status}`);
});
