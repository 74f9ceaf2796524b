import test from 'ava';
import { api, startTestApp, type TestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers, type TestUser } from '../../helpers/catalog.ts';
import { deliverOutbox } from './helpers.ts';

// the old world (shared tables, whole-showtime lock) and the new one (own schemas, per-seat holds)
for (const cfg of [
  { store: 'legacy', perSeat: false },
  { store: 'own', perSeat: true },
] as const) {
  let t0: TestApp;
  let admin: string;
  let users: TestUser[];
  test.before(async () => {
    t0 = await startTestApp({
      env: { STORE_MOVIE: cfg.store, STORE_BOOKING: cfg.store, FLAGS_BOOTSTRAP: `use_per_seat_locks=${cfg.perSeat}` },
    });
    admin = await adminToken(t0);
    users = await forgeUsers(t0, 3);
  });
  test.after.always(async () => {
    await t0?.stop();
  });
  const name = (s: string) => `${cfg.store}/${cfg.perSeat ? 'per-seat' : 'showtime-lock'}: ${s}`;
  const book = (token: string, showtime_id: string, seat_ids: string[]) => api(t0.url, 'POST', '/api/v1/bookings', { token, body: { showtime_id, seat_ids } });
  const seatMap = async (showtimeId: string) => {
    await deliverOutbox(t0); // what the event backbone does between booking and movie
    const res = await api(t0.url, 'GET', `/api/v1/showtimes/${showtimeId}/seats`);
    return Object.fromEntries((res.body as { seat_id: string; status: string }[]).map((s) => [s.seat_id, s.status]));
  };

  test(name('create → 201 pending with seats, exact total, expiry; the seat map shows them held'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 2, perRow: 5, basePrice: '90000.50', types: { B: 'vip' }, ...(cfg.store === 'own' ? { tierPrices: { vip: '150000' } } : {}) });
    const seats = [c.seats[0]!.id, c.seats[6]!.id];
    const before = Date.now();
    const res = await book(users[0]!.token, c.showtimeId, seats);
    t.is(res.status, 201, JSON.stringify(res.body));
    t.is(res.body.status, 'pending');
    t.regex(res.body.id, /^[0-9a-f-]{36}$/);
    t.deepEqual(res.body.seats.map((s: { seat_id: string }) => s.seat_id).sort(), [...seats].sort());
    t.is(res.body.total_price, cfg.store === 'own' ? '240000.50' : '180001.00');
    t.is(res.body.currency, 'VND');
    const expires = Date.parse(res.body.expires_at);
    t.true(expires >= before + 899_000 && expires <= Date.now() + 901_000);
    t.is(res.body.showtime.showtime_id, c.showtimeId);
    const map = await seatMap(c.showtimeId);
    t.is(map[seats[0]!], 'held');
    t.is(map[seats[1]!], 'held');
    t.is(map[c.seats[1]!.id], 'available');
    if (cfg.perSeat) {
      t.is(await t0.app.redis!.get(t0.app.booking!.admin.seatHoldKey(c.showtimeId, seats[0]!)), res.body.id, 'the per-seat hold stays with the booking');
    } else {
      t.is(await t0.app.redis!.get(t0.app.booking!.admin.showtimeLockKey(c.showtimeId)), null, 'the showtime lock is released');
    }
  });

  test(name('the booking is written with its booking.created event and a saga row, in one transaction'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 1, perRow: 3 });
    const res = await book(users[1]!.token, c.showtimeId, [c.seatIds[2]!]);
    t.is(res.status, 201);
    const db = t0.app.databases.forModule('booking');
    const outbox = await db.withSchema('bookings').table('outbox').where({ event_type: 'booking.created' }).whereRaw(`envelope->'payload'->>'booking_id' = ?`, [res.body.id]);
    t.is(outbox.length, 1);
    const payload = outbox[0].envelope.payload;
    t.like(payload, { booking_id: res.body.id, user_id: users[1]!.id, user_email: users[1]!.email, showtime_id: c.showtimeId, total_price: '90000.00', currency: 'VND', status: 'pending', expires_at: res.body.expires_at });
    t.deepEqual(Object.keys(payload.showtime_snapshot).sort(), ['base_price', 'city', 'currency', 'end_time', 'movie_id', 'movie_title', 'screen', 'start_time', 'theater_id', 'theater_name']);
    t.deepEqual(payload.seats.map((s: { seat_id: string }) => s.seat_id), [c.seatIds[2]]);
    const saga = await db.withSchema('bookings').table('saga_state').where({ booking_id: res.body.id }).first();
    t.like(saga, { current_step: 'awaiting_payment', status: 'running' });
  });

  test(name('a held seat is 409 naming it; a multi-seat request is all-or-nothing'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 1, perRow: 4 });
    const [a, b, d] = [c.seatIds[0]!, c.seatIds[1]!, c.seatIds[2]!];
    t.is((await book(users[0]!.token, c.showtimeId, [a])).status, 201);
    const taken = await book(users[1]!.token, c.showtimeId, [a]);
    t.is(taken.status, 409);
    t.is(taken.body.type, 'urn:boxoffice:problem:seats-taken');
    t.deepEqual(taken.body.seats, [a]);
    const mixed = await book(users[1]!.token, c.showtimeId, [b, a, d]);
    t.is(mixed.status, 409);
    t.deepEqual(mixed.body.seats, [a], 'only the taken seat is named');
    t.deepEqual((await t0.app.booking!.admin.activeSeats(c.showtimeId)).map((s) => s.seatId), [a], 'nothing of the refused request was written');
    if (cfg.perSeat) t.is(await t0.app.redis!.get(t0.app.booking!.admin.seatHoldKey(c.showtimeId, b)), null, 'and it left no hold');
    t.is((await book(users[1]!.token, c.showtimeId, [b, d])).status, 201, 'the free seats of the refused request are bookable');
  });

  test(name('owner and admin see a booking, anyone else gets 404; the list is the caller\'s own'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 1, perRow: 2 });
    const res = await book(users[2]!.token, c.showtimeId, [c.seatIds[0]!]);
    t.is((await api(t0.url, 'GET', `/api/v1/bookings/${res.body.id}`, { token: users[2]!.token })).body.id, res.body.id);
    t.is((await api(t0.url, 'GET', `/api/v1/bookings/${res.body.id}`, { token: admin })).status, 200);
    const other = await api(t0.url, 'GET', `/api/v1/bookings/${res.body.id}`, { token: users[0]!.token });
    t.is(other.status, 404);
    t.is((await api(t0.url, 'GET', '/api/v1/bookings/00000000-0000-4000-8000-000000000000', { token: users[2]!.token })).body.type, other.body.type);
    t.is((await api(t0.url, 'POST', `/api/v1/bookings/${res.body.id}/cancel`, { token: users[0]!.token })).status, 404);
    const list = await api(t0.url, 'GET', '/api/v1/bookings?limit=50', { token: users[2]!.token });
    t.is(list.status, 200);
    t.true(list.body.items.some((b: { id: string }) => b.id === res.body.id));
    t.true(list.body.items.every((b: { user_id: string }) => b.user_id === users[2]!.id));
    t.is((await api(t0.url, 'GET', '/api/v1/bookings')).status, 401);
  });

  test(name('cancel releases the seats (bookable again), is idempotent, and announces booking.cancelled'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 1, perRow: 2 });
    const seat = c.seatIds[1]!;
    const res = await book(users[0]!.token, c.showtimeId, [seat]);
    const cancelled = await api(t0.url, 'POST', `/api/v1/bookings/${res.body.id}/cancel`, { token: users[0]!.token, body: { reason: 'changed my mind' } });
    t.is(cancelled.status, 200);
    t.is(cancelled.body.status, 'cancelled');
    t.is((await api(t0.url, 'POST', `/api/v1/bookings/${res.body.id}/cancel`, { token: users[0]!.token })).body.status, 'cancelled');
    t.is((await api(t0.url, 'GET', `/api/v1/bookings/${res.body.id}`, { token: users[0]!.token })).body.status, 'cancelled');
    t.is((await seatMap(c.showtimeId))[seat], 'available');
    const events = await t0.app.databases.forModule('booking').withSchema('bookings').table('outbox')
      .where({ event_type: 'booking.cancelled' }).whereRaw(`envelope->'payload'->>'booking_id' = ?`, [res.body.id]);
    t.is(events.length, 1, 'one event, not one per cancel call');
    t.like(events[0].envelope.payload, { reason: 'changed my mind', refund_required: false, seat_ids: [seat] });
    const again = await book(users[1]!.token, c.showtimeId, [seat]);
    t.is(again.status, 201);
  });

  test(name('bad input is 422 naming the field; unknown showtime 404, unknown seat 422, cancelled showtime 409'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 1, perRow: 2 });
    const token = users[0]!.token;
    const bad = await api(t0.url, 'POST', '/api/v1/bookings', { token, body: { showtime_id: 'x', seat_ids: [] } });
    t.is(bad.status, 422);
    t.deepEqual(bad.body.errors.map((e: { field: string }) => e.field).sort(), ['seat_ids', 'showtime_id']);
    const dup = await book(token, c.showtimeId, [c.seatIds[0]!, c.seatIds[0]!]);
    t.is(dup.status, 422);
    t.is(dup.body.errors[0].field, 'seat_ids');
    const tooMany = await book(token, c.showtimeId, Array.from({ length: 11 }, () => crypto.randomUUID()));
    t.is(tooMany.status, 422);
    t.is((await book(token, '00000000-0000-4000-8000-000000000000', [c.seatIds[0]!])).status, 404);
    const stranger = '00000000-0000-4000-8000-0000000000aa';
    const unknown = await book(token, c.showtimeId, [c.seatIds[0]!, stranger]);
    t.is(unknown.status, 422);
    t.deepEqual(unknown.body.seats, [stranger]);
    t.is(unknown.body.errors[0].field, 'seat_ids');
    await api(t0.url, 'POST', `/api/v1/showtimes/${c.showtimeId}/cancel`, { token: admin });
    const off = await book(token, c.showtimeId, [c.seatIds[0]!]);
    t.is(off.status, 409);
    t.is(off.body.type, 'urn:boxoffice:problem:showtime-cancelled');
  });

  test(name('a total no store can hold is a 422 naming seat_ids, never a 500 (issue 8)'), async (t) => {
    const c = await createCatalog(t0, admin, { rows: 1, perRow: 3, basePrice: '99999999.99' });
    const [buyer] = await forgeUsers(t0, 1);
    const two = await book(buyer!.token, c.showtimeId, c.seatIds.slice(0, 2));
    t.is(two.status, 422, JSON.stringify(two.body));
    t.is(two.body.type, 'urn:boxoffice:problem:booking-total-too-large');
    t.deepEqual(two.body.errors.map((e: { field: string }) => e.field), ['seat_ids']);
    t.is(two.body.total_price, '199999999.98');
    const one = await book(buyer!.token, c.showtimeId, [c.seatIds[2]!]);
    t.is(one.status, 201, JSON.stringify(one.body));
    t.is(one.body.total_price, '99999999.99');
    // the refused request held nothing: its seats are still free
    t.is((await book(buyer!.token, c.showtimeId, [c.seatIds[0]!])).status, 201);
  });
}
