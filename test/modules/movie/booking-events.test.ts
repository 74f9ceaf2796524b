import { randomUUID } from 'node:crypto';
import test from 'ava';
import { bookingCancelledV1, bookingExpiredV1 } from '../../../src/modules/booking/index.ts';
import { buildEnvelope, type Envelope } from '../../../src/platform/events/envelope.ts';
import { api, startTestApp, type TestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog, type Catalog } from '../../helpers/catalog.ts';

let t0: TestApp;
let admin: string;
test.before(async () => {
  t0 = await startTestApp({ env: { STORE_MOVIE: 'own' } });
  admin = await adminToken(t0);
});
test.after.always(async () => {
  await t0?.stop();
});

const movieDb = () => t0.app.databases.forModule('movie');

/** run a handler the way the consumer does: in a movie-pool transaction */
async function handle(event: Envelope): Promise<void> {
  const handler = t0.app.movie!.consumer!.handlers[event.event_type];
  if (!handler) throw new Error(`no handler for ${event.event_type}`);
  await movieDb().transaction((trx) => handler(event, trx));
}

const created = (c: Catalog, bookingId: string, seats: string[], expiresInMs = 600_000): Envelope => ({
  event_id: randomUUID(), event_type: 'booking.created', event_version: '1.0', timestamp: new Date().toISOString(), correlation_id: randomUUID(),
  causation_id: null, source: 'booking', metadata: {},
  payload: {
    booking_id: bookingId, user_id: randomUUID(), user_email: 'x@example.com', showtime_id: c.showtimeId,
    seats: seats.map((seat_id) => ({ seat_id, row: 'A', number: 1, type: 'standard', price: '1.00' })), total_price: '1.00', currency: 'VND',
    status: 'pending', expires_at: new Date(Date.now() + expiresInMs).toISOString(), created_at: new Date().toISOString(),
  },
});
const confirmed = (bookingId: string): Envelope => ({ ...created({ showtimeId: randomUUID() } as Catalog, bookingId, []), event_id: randomUUID(), event_type: 'booking.confirmed', payload: { booking_id: bookingId, user_id: randomUUID(), confirmed_at: new Date().toISOString() } });

const statuses = async (c: Catalog) =>
  Object.fromEntries(((await api(t0.url, 'GET', `/api/v1/showtimes/${c.showtimeId}/seats`)).body as { seat_id: string; status: string }[]).map((s) => [s.seat_id, s.status]));
const seatEvents = (bookingId: string) =>
  movieDb().withSchema('movies').table('outbox').whereRaw(`envelope->'payload'->>'booking_id' = ?`, [bookingId]).orderBy('id').select('event_type', 'envelope');

test('booking.created holds the seats and announces seat.reserved once, caused by the booking event', async (t) => {
  const c = await createCatalog(t0, admin, { rows: 1, perRow: 4 });
  const booking = randomUUID();
  const event = created(c, booking, [c.seatIds[0]!, c.seatIds[1]!]);
  await handle(event);
  await handle({ ...event, event_id: randomUUID() }); // redelivered under a new id: nothing changes
  const map = await statuses(c);
  t.is(map[c.seatIds[0]!], 'held');
  t.is(map[c.seatIds[1]!], 'held');
  t.is(map[c.seatIds[2]!], 'available');
  const events = await seatEvents(booking);
  t.deepEqual(events.map((e) => e.event_type), ['seat.reserved']);
  t.like(events[0].envelope, { causation_id: event.event_id, correlation_id: event.correlation_id, source: 'movie' });
  t.deepEqual(events[0].envelope.payload.seat_ids, [c.seatIds[0]!, c.seatIds[1]!].sort());
  t.is((await api(t0.url, 'GET', `/api/v1/showtimes/${c.showtimeId}`)).body.available_seats, 2);
});

test('booking.confirmed sells the held seats (seat.confirmed); booking.cancelled frees them (seat.released)', async (t) => {
  const c = await createCatalog(t0, admin, { rows: 1, perRow: 3 });
  const booking = randomUUID();
  await handle(created(c, booking, [c.seatIds[2]!]));
  await handle(confirmed(booking));
  t.is((await statuses(c))[c.seatIds[2]!], 'sold');
  await handle(buildEnvelope(bookingCancelledV1, {
    booking_id: booking, user_id: randomUUID(), showtime_id: c.showtimeId, seat_ids: [c.seatIds[2]!], reason: 'refund', cancelled_at: new Date().toISOString(), refund_required: true,
  }, { source: 'booking' }));
  t.is((await statuses(c))[c.seatIds[2]!], 'available');
  const events = await seatEvents(booking);
  t.deepEqual(events.map((e) => e.event_type), ['seat.reserved', 'seat.confirmed', 'seat.released']);
  t.is(events[2].envelope.payload.reason, 'cancelled');
});

test('booking.expired frees the seats; a late expiry of an older booking does not free a newer one\'s seats', async (t) => {
  const c = await createCatalog(t0, admin, { rows: 1, perRow: 2 });
  const [old, newer] = [randomUUID(), randomUUID()];
  const seat = c.seatIds[0]!;
  const expire = (id: string) => buildEnvelope(bookingExpiredV1, { booking_id: id, user_id: randomUUID(), showtime_id: c.showtimeId, seat_ids: [seat], expired_at: new Date().toISOString() }, { source: 'booking' });
  await handle(created(c, old, [seat]));
  await handle(created(c, newer, [seat])); // booking let the seat go (old expired) before its event got here
  await handle(expire(old));
  t.is((await statuses(c))[seat], 'held', 'still held by the newer booking');
  t.deepEqual((await seatEvents(old)).map((e) => e.event_type), ['seat.reserved'], 'nothing to release for the old booking');
  await handle(expire(newer));
  t.is((await statuses(c))[seat], 'available');
  t.deepEqual((await seatEvents(newer)).map((e) => e.event_type), ['seat.reserved', 'seat.released']);
});

test('a sold seat is never taken over by a stray booking.created; a hold past its deadline shows available', async (t) => {
  const c = await createCatalog(t0, admin, { rows: 1, perRow: 2 });
  const [buyer, stray, lapsed] = [randomUUID(), randomUUID(), randomUUID()];
  await handle(created(c, buyer, [c.seatIds[0]!]));
  await handle(confirmed(buyer));
  await handle(created(c, stray, [c.seatIds[0]!]));
  t.is((await statuses(c))[c.seatIds[0]!], 'sold');
  t.deepEqual((await seatEvents(stray)).map((e) => e.event_type), []);
  await handle(created(c, lapsed, [c.seatIds[1]!], -1_000));
  t.is((await statuses(c))[c.seatIds[1]!], 'available', 'the expiry event may be late; the deadline is not');
});

test('a payload without what the handler needs is refused (the consumer retries, then dead-letters it)', async (t) => {
  await t.throwsAsync(handle({ ...confirmed(randomUUID()), event_type: 'booking.created', payload: { booking_id: 'nope' } }));
});
