import { randomUUID } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import type { Knex } from '../../../src/platform/db.ts';
import { sumMoney } from '../../../src/platform/money.ts';
import { buildEnvelope } from '../../../src/platform/events/envelope.ts';
import { createdPayload } from '../../../src/modules/booking/internal/booking-service.ts';
import { SeatsTakenError } from '../../../src/modules/booking/internal/errors.ts';
import { bookingCreatedV1 } from '../../../src/modules/booking/internal/events.ts';
import { PendingLimitError } from '../../../src/modules/booking/internal/pending-caps.ts';
import type { BookedSeat, BookingStore, NewBooking, PendingWrite } from '../../../src/modules/booking/internal/types.ts';
import type { ShowtimeSnapshot } from '../../../src/modules/movie/index.ts';

export interface ShowtimeFixture {
  showtimeId: string;
  seats: BookedSeat[];
  snapshot: ShowtimeSnapshot;
}

export interface BookingFixture {
  store: BookingStore;
  /** the booking module's pool (its role) */
  db: Knex;
  /** a showtime with `n` seats priced 50000.00 (the stores take its snapshot and seats as given) */
  showtime(n: number): Promise<ShowtimeFixture>;
  /** a user the booking is for */
  user(): Promise<{ id: string; email: string }>;
}

/** One behavioural contract for every BookingStore (legacy shared tables, own booking schema). */
export function bookingStoreContract(test: TestFn, name: string, fixture: () => BookingFixture): void {
  const t = (title: string, fn: (t: ExecutionContext, f: BookingFixture) => Promise<void>) => test(`${name}: ${title}`, (tc) => fn(tc, fixture()));

  const newBooking = (s: ShowtimeFixture, user: { id: string; email: string }, seats: BookedSeat[], expiresInMs = 900_000, currency = 'VND'): NewBooking => {
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    return {
      id: randomUUID(), userId: user.id, userEmail: user.email, showtimeId: s.showtimeId, snapshot: { ...s.snapshot, currency },
      totalPrice: sumMoney(seats.map((x) => x.price)), currency, expiresAt: new Date(now.getTime() + expiresInMs), createdAt: now,
      seats: [...seats].sort((a, b) => (a.seatId < b.seatId ? -1 : 1)),
    };
  };
  const insert = (f: BookingFixture, b: NewBooking) => f.db.transaction((trx) => f.store.insertPending(trx, b));
  const write = (b: NewBooking, limits = { maxBookings: 100, maxSeatsPerShowtime: 100 }): PendingWrite => ({
    limits, now: new Date(),
    event: buildEnvelope(bookingCreatedV1, createdPayload({ ...b, status: 'pending', cancelReason: null, updatedAt: b.createdAt }), { source: 'booking' }),
  });
  /** the saga row and the outbox rows a createPending left for a booking (both live in the bookings schema) */
  const traces = async (f: BookingFixture, w: PendingWrite, bookingId: string) => ({
    saga: (await f.db.withSchema('bookings').table('saga_state').where({ booking_id: bookingId }).select('current_step', 'status')) as { current_step: string; status: string }[],
    events: (await f.db.withSchema('bookings').table('outbox').where({ event_id: w.event.event_id }).select('event_type')) as { event_type: string }[],
  });

  t('insert a pending booking; read it back whole; list it for its user', async (tc, f) => {
    const s = await f.showtime(4);
    const user = await f.user();
    const b = newBooking(s, user, s.seats.slice(0, 2));
    await insert(f, b);
    const got = await f.store.findById(f.db, b.id);
    tc.like(got, { id: b.id, userId: user.id, userEmail: user.email, showtimeId: s.showtimeId, status: 'pending', totalPrice: '100000.00', currency: 'VND' });
    tc.is(got?.expiresAt?.getTime(), b.expiresAt.getTime());
    tc.deepEqual(got?.seats, b.seats);
    tc.deepEqual(got?.snapshot, b.snapshot);
    const list = await f.store.listByUser(f.db, user.id, { limit: 10, offset: 0 });
    tc.is(list.total, 1);
    tc.is(list.items[0]?.id, b.id);
    tc.is(await f.store.findById(f.db, randomUUID()), undefined);
  });

  t('a booking keeps what it was made with: seat prices and snapshots, currency, email — not the catalog\'s today', async (tc, f) => {
    const s = await f.showtime(3);
    const user = await f.user();
    // a tier price, a renamed seat and a currency other than the configured one: none of it is in the catalog
    // tables; and a total above what the old bookings.total_price held before legacy 0008
    const seats = [{ ...s.seats[0]!, price: '150000000.50', type: 'vip' }, { ...s.seats[2]!, row: 'Z', number: 99 }];
    const b = { ...newBooking(s, user, seats, 900_000, 'EUR'), userEmail: `kept-${user.email}` };
    await insert(f, b);
    const got = await f.store.findById(f.db, b.id);
    tc.like(got, { totalPrice: '150050000.50', currency: 'EUR', userEmail: b.userEmail });
    tc.deepEqual(got?.seats, b.seats);
    tc.deepEqual(got?.snapshot, b.snapshot);
  });

  t('a seat of an active booking is refused with SeatsTakenError naming only the taken seats; nothing is written', async (tc, f) => {
    const s = await f.showtime(4);
    const user = await f.user();
    await insert(f, newBooking(s, user, [s.seats[1]!]));
    const second = newBooking(s, user, [s.seats[0]!, s.seats[1]!, s.seats[2]!]);
    const err = await tc.throwsAsync(insert(f, second), { instanceOf: SeatsTakenError });
    tc.deepEqual(err?.seats, [s.seats[1]!.seatId]);
    tc.is(await f.store.findById(f.db, second.id), undefined);
    tc.deepEqual((await f.store.activeSeats(f.db, s.showtimeId)).map((a) => a.seatId), [s.seats[1]!.seatId]);
  });

  t('createPending writes the booking with its seats, its saga row and booking.created together', async (tc, f) => {
    const s = await f.showtime(3);
    const b = newBooking(s, await f.user(), [s.seats[2]!, s.seats[0]!]);
    const w = write(b);
    tc.like(await f.store.createPending(f.db, b, w), { id: b.id, status: 'pending', cancelReason: null });
    const got = await f.store.findById(f.db, b.id);
    tc.like(got, { status: 'pending', totalPrice: '100000.00', userEmail: b.userEmail });
    tc.deepEqual(got?.seats, b.seats);
    tc.deepEqual(got?.snapshot, b.snapshot);
    tc.is(got?.expiresAt?.getTime(), b.expiresAt.getTime());
    tc.deepEqual(await traces(f, w, b.id), { saga: [{ current_step: 'awaiting_payment', status: 'running' }], events: [{ event_type: 'booking.created' }] });
  });

  t('createPending refuses a seat an active booking holds, naming only that seat; no booking, saga row or event is left', async (tc, f) => {
    const s = await f.showtime(4);
    const user = await f.user();
    await insert(f, newBooking(s, user, [s.seats[1]!]));
    const b = newBooking(s, user, [s.seats[0]!, s.seats[1]!, s.seats[2]!]);
    const w = write(b);
    const err = await tc.throwsAsync(f.store.createPending(f.db, b, w), { instanceOf: SeatsTakenError });
    tc.deepEqual(err?.seats, [s.seats[1]!.seatId]);
    tc.is(await f.store.findById(f.db, b.id), undefined);
    tc.deepEqual(await traces(f, w, b.id), { saga: [], events: [] });
    tc.deepEqual((await f.store.activeSeats(f.db, s.showtimeId)).map((a) => a.seatId), [s.seats[1]!.seatId]);
  });

  t('createPending refuses past the pending caps with PendingLimitError; nothing is left', async (tc, f) => {
    const s = await f.showtime(5);
    const user = await f.user();
    const first = newBooking(s, user, s.seats.slice(0, 2));
    await f.store.createPending(f.db, first, write(first));
    const seats = newBooking(s, user, s.seats.slice(2, 4));
    const w = write(seats, { maxBookings: 100, maxSeatsPerShowtime: 3 });
    const err = await tc.throwsAsync(f.store.createPending(f.db, seats, w), { instanceOf: PendingLimitError });
    tc.like(err?.extra, { limit: 'pending_seats_per_showtime', max: 3, pending: 2, requested: 2 });
    tc.deepEqual(await traces(f, w, seats.id), { saga: [], events: [] });
    const bookings = newBooking(s, user, [s.seats[4]!]);
    const err2 = await tc.throwsAsync(f.store.createPending(f.db, bookings, write(bookings, { maxBookings: 1, maxSeatsPerShowtime: 100 })), { instanceOf: PendingLimitError });
    tc.like(err2?.extra, { limit: 'pending_bookings', max: 1, pending: 1, requested: 1 });
    tc.is(await f.store.findById(f.db, bookings.id), undefined);
    tc.is((await f.store.activeSeats(f.db, s.showtimeId)).length, 2);
  });

  t('createPending alone keeps the invariant and the caps: 30 concurrent calls for one seat, 30 of one user past a cap', async (tc, f) => {
    const s = await f.showtime(40);
    const results = await Promise.allSettled(Array.from({ length: 30 }, async () => {
      const b = newBooking(s, await f.user(), [s.seats[2]!, s.seats[0]!]);
      return f.store.createPending(f.db, b, write(b));
    }));
    tc.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') tc.true(r.reason instanceof SeatsTakenError, String(r.reason));
    // one user, disjoint seats, at most 5 pending seats in the showtime: the user's lock counts them one after another
    const user = await f.user();
    const capped = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => {
      const b = newBooking(s, user, [s.seats[5 + i]!]);
      return f.store.createPending(f.db, b, write(b, { maxBookings: 100, maxSeatsPerShowtime: 5 }));
    }));
    tc.is(capped.filter((r) => r.status === 'fulfilled').length, 5);
    for (const r of capped) if (r.status === 'rejected') tc.true(r.reason instanceof PendingLimitError, String(r.reason));
    tc.is((await f.store.activeSeats(f.db, s.showtimeId)).length, 2 + 5);
  });

  t('createPending in the caller\'s transaction: rolled back with it, nothing is left', async (tc, f) => {
    const s = await f.showtime(1);
    const b = newBooking(s, await f.user(), [s.seats[0]!]);
    const w = write(b);
    await tc.throwsAsync(f.db.transaction(async (trx) => {
      await f.store.createPending(trx, b, w);
      throw new Error('planned rollback');
    }), { message: 'planned rollback' });
    tc.is(await f.store.findById(f.db, b.id), undefined);
    tc.deepEqual(await traces(f, w, b.id), { saga: [], events: [] });
  });

  t('the store alone keeps the invariant: 30 concurrent transactions for one seat, no Redis — exactly one wins', async (tc, f) => {
    const s = await f.showtime(3);
    const user = await f.user();
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => insert(f, newBooking(s, user, [s.seats[2]!, s.seats[0]!]))));
    tc.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') tc.true(r.reason instanceof SeatsTakenError, String(r.reason));
    tc.is((await f.store.activeSeats(f.db, s.showtimeId)).length, 2);
  });

  t('finish (cancelled / expired) frees the seats for a new booking; only active bookings finish', async (tc, f) => {
    const s = await f.showtime(2);
    const user = await f.user();
    const first = newBooking(s, user, [s.seats[0]!]);
    await insert(f, first);
    await f.db.transaction(async (trx) => {
      tc.is((await f.store.lockById(trx, first.id))?.status, 'pending');
      await f.store.finish(trx, first.id, 'cancelled', 'test');
    });
    tc.like(await f.store.findById(f.db, first.id), { status: 'cancelled', cancelReason: 'test' });
    tc.deepEqual(await f.store.activeSeats(f.db, s.showtimeId), []);
    const second = newBooking(s, user, [s.seats[0]!]);
    await insert(f, second);
    await f.db.transaction((trx) => f.store.finish(trx, first.id, 'expired', 'late'));
    tc.like(await f.store.findById(f.db, first.id), { status: 'cancelled', cancelReason: 'test' }, 'a finished booking stays as it is');
    tc.deepEqual(await f.store.activeSeats(f.db, s.showtimeId), [{ seatId: s.seats[0]!.seatId, bookingId: second.id }]);
  });

  t('claimExpired returns due pending bookings only, and skips rows another sweeper holds', async (tc, f) => {
    const s = await f.showtime(3);
    const user = await f.user();
    const due = newBooking(s, user, [s.seats[0]!], -1_000);
    const later = newBooking(s, user, [s.seats[1]!], 600_000);
    const dueToo = newBooking(s, user, [s.seats[2]!], -500);
    for (const b of [due, later, dueToo]) await insert(f, b);
    const now = new Date();
    await f.db.transaction(async (outer) => {
      const claimed = (await f.store.claimExpired(outer, now, 100)).filter((id) => [due.id, later.id, dueToo.id].includes(id));
      tc.deepEqual(claimed.sort(), [due.id, dueToo.id].sort());
      const other = await f.db.transaction((inner) => f.store.claimExpired(inner, now, 100));
      tc.false(other.includes(due.id) || other.includes(dueToo.id), 'locked rows are skipped');
    });
  });

  t('writes inside a rolled-back transaction leave nothing', async (tc, f) => {
    const s = await f.showtime(1);
    const b = newBooking(s, await f.user(), [s.seats[0]!]);
    const inserted: string[] = [];
    const rolledBack = f.db.transaction(async (trx) => {
      inserted.push((await f.store.insertPending(trx, b)).id);
      throw new Error('planned rollback');
    });
    // the insert itself must have worked: only the planned error may end the transaction
    await tc.throwsAsync(rolledBack, { message: 'planned rollback' });
    tc.deepEqual(inserted, [b.id]);
    tc.is(await f.store.findById(f.db, b.id), undefined);
    tc.deepEqual(await f.store.activeSeats(f.db, s.showtimeId), []);
  });

  t('pendingOf counts the user\'s unexpired pending bookings, and their seats in one showtime', async (tc, f) => {
    const [a, b] = [await f.showtime(4), await f.showtime(4)];
    const user = await f.user();
    const other = await f.user();
    const now = new Date();
    tc.deepEqual(await f.store.pendingOf(f.db, user.id, a.showtimeId, now), { bookings: 0, seatsInShowtime: 0 });
    await insert(f, newBooking(a, user, a.seats.slice(0, 2)));
    await insert(f, newBooking(b, user, [b.seats[0]!]));
    await insert(f, newBooking(a, other, [a.seats[3]!]));
    const confirmed = newBooking(b, user, [b.seats[1]!]);
    await insert(f, confirmed);
    await f.db.transaction((trx) => f.store.confirm(trx, confirmed.id));
    const cancelled = newBooking(a, user, [a.seats[2]!]);
    await insert(f, cancelled);
    await f.db.transaction((trx) => f.store.finish(trx, cancelled.id, 'cancelled', 'test'));
    tc.deepEqual(await f.store.pendingOf(f.db, user.id, a.showtimeId, now), { bookings: 2, seatsInShowtime: 2 }, 'paid and cancelled ones do not count');
    tc.deepEqual(await f.store.pendingOf(f.db, user.id, b.showtimeId, now), { bookings: 2, seatsInShowtime: 1 });
    const later = new Date(now.getTime() + 3_600_000);
    tc.deepEqual(await f.store.pendingOf(f.db, user.id, a.showtimeId, later), { bookings: 0, seatsInShowtime: 0 }, 'holds that ran out do not count');
  });
}
