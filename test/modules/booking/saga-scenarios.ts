import type { ExecutionContext } from 'ava';
import { api, registerAndLogin, type TestApp } from '../../helpers/app.ts';
import type { Catalog } from '../../helpers/catalog.ts';
import { waitFor } from '../../helpers/events.ts';
import { pay as payOver } from '../payment/fixtures.ts';

/**
 * The booking saga's scenarios, shared by the runs over RabbitMQ (saga-e2e.test.ts) and over Postgres
 * only (saga-postgres.test.ts): the same steps must hold whichever transport carries the events.
 */
export const SAGA_FLAGS = [
  'publish_booking_events', 'publish_payment_events', 'publish_seat_events', 'use_payment_events', 'consume_booking_events',
  'use_per_seat_locks',
];

export interface Rig {
  app: TestApp;
  admin: string;
  catalog: Catalog;
}

const moviesDb = (t: TestApp) => t.app.databases.forModule('movie');

/** movies.seat_availability of these seats: status and booking */
async function seatStates(r: Rig, seatIds: string[]): Promise<Map<string, { status: string; booking_id: string | null }>> {
  const rows = (await moviesDb(r.app).withSchema('movies').table('seat_availability')
    .where({ showtime_id: r.catalog.showtimeId }).whereIn('seat_id', seatIds).select('seat_id', 'status', 'booking_id')) as {
    seat_id: string; status: string; booking_id: string | null;
  }[];
  return new Map(rows.map((x) => [x.seat_id, { status: x.status, booking_id: x.booking_id }]));
}

const waitSeats = (r: Rig, seatIds: string[], status: string, bookingId: string | null) =>
  waitFor(`seats ${status} for ${bookingId ?? 'nobody'}`, async () => {
    const states = await seatStates(r, seatIds);
    return seatIds.every((id) => states.get(id)?.status === status && states.get(id)?.booking_id === bookingId) || undefined;
  }, 30_000);

const waitStatus = (r: Rig, token: string, bookingId: string, status: string) =>
  waitFor(`booking ${bookingId} ${status}`, async () => {
    const res = await api(r.app.url, 'GET', `/api/v1/bookings/${bookingId}`, { token });
    return res.body?.status === status ? res.body : undefined;
  }, 30_000);

async function book(r: Rig, token: string, seatIds: string[]) {
  const res = await api(r.app.url, 'POST', '/api/v1/bookings', { token, body: { showtime_id: r.catalog.showtimeId, seat_ids: seatIds } });
  if (res.status !== 201) throw new Error(`booking: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; status: string; total_price: string };
}

const pay = (r: Rig, token: string, bookingId: string, card: string) => payOver(r.app, { token, bookingId, card });

/** the booking's snapshot reached payment (own stores: payment reads nothing else) */
const snapshotReady = (r: Rig, bookingId: string) =>
  waitFor('payment booking snapshot', async () =>
    r.app.app.databases.forModule('payment').withSchema('payments').table('booking_snapshots').where({ booking_id: bookingId }).first(), 30_000);

const sagaRow = (r: Rig, bookingId: string) =>
  r.app.app.databases.forModule('booking').withSchema('bookings').table('saga_state').where({ booking_id: bookingId }).first();

export async function happyPath(t: ExecutionContext, r: Rig, stores: 'legacy' | 'own') {
  const user = await registerAndLogin(r.app.url, 'saga');
  const seats = r.catalog.seatIds.slice(0, 2);
  const booking = await book(r, user.access, seats);
  t.is(booking.status, 'pending');
  await waitSeats(r, seats, 'held', booking.id);
  if (stores === 'own') await snapshotReady(r, booking.id);

  const paid = await pay(r, user.access, booking.id, 'tok_success');
  t.is(paid.status, 201, JSON.stringify(paid.body));
  t.like(paid.body, { status: 'completed', booking_id: booking.id, amount: booking.total_price });

  await waitStatus(r, user.access, booking.id, 'confirmed');
  await waitSeats(r, seats, 'sold', booking.id);
  t.like(await sagaRow(r, booking.id), { current_step: 'confirmed', status: 'completed' });
  // exactly one booking.confirmed, caused by the payment.completed
  const confirmed = await r.app.app.databases.forModule('booking').withSchema('bookings').table('outbox')
    .where({ event_type: 'booking.confirmed' }).whereRaw(`envelope->'payload'->>'booking_id' = ?`, [booking.id]);
  t.is(confirmed.length, 1);
  const again = await api(r.app.url, 'POST', '/api/v1/bookings', { token: user.access, body: { showtime_id: r.catalog.showtimeId, seat_ids: seats } });
  t.is(again.status, 409, 'sold seats cannot be booked');
}

export async function declined(t: ExecutionContext, r: Rig, stores: 'legacy' | 'own') {
  const user = await registerAndLogin(r.app.url, 'saga');
  const seats = r.catalog.seatIds.slice(2, 5);
  const booking = await book(r, user.access, seats);
  await waitSeats(r, seats, 'held', booking.id);
  if (stores === 'own') await snapshotReady(r, booking.id);

  const paid = await pay(r, user.access, booking.id, 'tok_decline');
  t.true([201, 402].includes(paid.status), JSON.stringify(paid.body));

  const cancelled = await waitStatus(r, user.access, booking.id, 'cancelled');
  t.truthy(cancelled);
  await waitSeats(r, seats, 'available', null);
  const saga = await sagaRow(r, booking.id);
  t.like(saga, { current_step: 'cancelled', status: 'compensated' });
  t.true(saga.compensations.some((c: { action: string }) => c.action === 'release_seats'));
  // the compensation freed the seats for real: another user gets them at once
  const other = await registerAndLogin(r.app.url, 'saga');
  const rebooked = await book(r, other.access, seats);
  t.is(rebooked.status, 'pending');
}

export async function expired(t: ExecutionContext, r: Rig) {
  const user = await registerAndLogin(r.app.url, 'saga');
  const seats = r.catalog.seatIds.slice(5, 7);
  const booking = await book(r, user.access, seats);
  await waitSeats(r, seats, 'held', booking.id);
  const bookingModule = r.app.app.booking!;
  t.true((await bookingModule.admin.expireDue(new Date(Date.now() + 3600_000))) >= 1);
  await waitStatus(r, user.access, booking.id, 'expired');
  await waitSeats(r, seats, 'available', null);
  const late = await pay(r, user.access, booking.id, 'tok_success');
  t.true(late.status >= 400 && late.status < 500, `paying an expired booking is refused: ${late.status}`);
}

export async function refundOnCancel(t: ExecutionContext, r: Rig, stores: 'legacy' | 'own') {
  const user = await registerAndLogin(r.app.url, 'saga');
  const seats = r.catalog.seatIds.slice(7, 8);
  const booking = await book(r, user.access, seats);
  if (stores === 'own') await snapshotReady(r, booking.id);
  const paid = await pay(r, user.access, booking.id, 'tok_success');
  t.is(paid.status, 201);
  await waitStatus(r, user.access, booking.id, 'confirmed');
  const cancel = await api(r.app.url, 'POST', `/api/v1/bookings/${booking.id}/cancel`, { token: user.access, body: {} });
  t.is(cancel.status, 200, JSON.stringify(cancel.body));
  await waitSeats(r, seats, 'available', null);
  await waitFor('refund recorded on the saga', async () => {
    const saga = await sagaRow(r, booking.id);
    return saga?.compensations.some((c: { action: string }) => c.action === 'refunded') || undefined;
  }, 30_000);
  const payment = await r.app.app.databases.forModule('payment').withSchema(stores === 'own' ? 'payments' : 'public').table('payments').where({ id: paid.body.id }).first();
  t.is(payment.status, 'refunded');
}

