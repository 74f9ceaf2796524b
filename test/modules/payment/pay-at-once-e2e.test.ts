import test, { type ExecutionContext } from 'ava';
import { api, startTestApp, type TestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog, forgeUsers, type Catalog, type TestUser } from '../../helpers/catalog.ts';
import { createTestVhost, waitFor, type TestVhost } from '../../helpers/events.ts';
import { counterValue, pay } from './fixtures.ts';

/**
 * Paying right after booking (issue 7, item 8). With use_booking_snapshot on — the saga's end state —
 * payment reads the booking from the snapshot it builds from booking.created, which travels through
 * booking's outbox, RabbitMQ and payment's inbox; a payment sent the moment POST /bookings answered can
 * get there first. It must never be refused: payment waits briefly for the snapshot, then asks the
 * booking module (its facade, in this process). Every module in one process, over a real RabbitMQ.
 */
const SAGA_FLAGS = [
  'publish_booking_events', 'consume_booking_events', 'use_booking_snapshot', 'publish_payment_events', 'use_payment_events',
  // the saga's seat side, so concurrent bookings of one showtime do not queue on the old showtime lock
  'publish_seat_events', 'use_per_seat_locks',
];

interface Rig {
  app: TestApp;
  vhost: TestVhost;
  catalog: Catalog;
  users: TestUser[];
}

async function rig(options: { seats: number; env?: Record<string, string>; flags?: string[] }): Promise<Rig> {
  const vhost = await createTestVhost();
  const app = await startTestApp({
    env: {
      AMQP_URL: vhost.url,
      EVENTS_RELAY_POLL_MS: '100',
      EVENTS_RETRY_DELAYS_MS: '100,200',
      FLAGS_BOOTSTRAP: (options.flags ?? SAGA_FLAGS).map((f) => `${f}=true`).join(','),
      ...options.env,
    },
  });
  const admin = await adminToken(app);
  const catalog = await createCatalog(app, admin, { rows: Math.ceil(options.seats / 20), perRow: 20, basePrice: '90000' });
  return { app, vhost, catalog, users: await forgeUsers(app, 20) };
}

interface Outcome {
  step: 'booking' | 'payment';
  status: number;
  body: unknown;
}

/** Book one seat, and pay the instant the booking is answered; the non-2xx answers, if any. */
async function bookThenPay(r: Rig, seatId: string, user: TestUser): Promise<{ bookingId?: string; failure?: Outcome }> {
  const booked = await api(r.app.url, 'POST', '/api/v1/bookings', { token: user.token, body: { showtime_id: r.catalog.showtimeId, seat_ids: [seatId] } });
  if (booked.status < 200 || booked.status > 299) return { failure: { step: 'booking', status: booked.status, body: booked.body } };
  const paid = await pay(r.app, { token: user.token, bookingId: booked.body.id });
  if (paid.status < 200 || paid.status > 299 || paid.body.status !== 'completed') return { bookingId: booked.body.id, failure: { step: 'payment', status: paid.status, body: paid.body } };
  return { bookingId: booked.body.id };
}

/** `n` sequences, `parallel` at a time; every seat booked once */
async function run(r: Rig, n: number, parallel: number) {
  const failures: Outcome[] = [];
  const bookings: string[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    for (let i = next++; i < n; i = next++) {
      const { bookingId, failure } = await bookThenPay(r, r.catalog.seatIds[i]!, r.users[i % r.users.length]!);
      if (bookingId) bookings.push(bookingId);
      if (failure) failures.push(failure);
    }
  }));
  return { failures, bookings };
}

const waits = async (r: Rig) => ({
  arrived: await counterValue(r.app, 'payment_booking_snapshot_waits_total', { result: 'arrived' }),
  askedBooking: await counterValue(r.app, 'payment_booking_snapshot_waits_total', { result: 'asked_booking' }),
  missing: await counterValue(r.app, 'payment_booking_snapshot_waits_total', { result: 'missing' }),
});

/** the saga finished every paid booking: payment.completed reached booking and confirmed it */
async function allConfirmed(r: Rig, bookings: string[]) {
  await waitFor(`${bookings.length} bookings confirmed`, async () => {
    const rows = (await r.app.app.databases.forRole('legacy', 'public').table('bookings').whereIn('id', bookings).where({ status: 'confirmed' }).count({ n: '*' })) as [{ n: string }];
    return Number(rows[0].n) === bookings.length;
  }, 60_000, 250);
}

async function withRig(t: ExecutionContext, options: Parameters<typeof rig>[0], fn: (r: Rig) => Promise<void>) {
  t.timeout(300_000);
  let r: Rig | undefined;
  try {
    r = await rig(options);
    await fn(r);
  } finally {
    await r?.app.stop();
    await r?.vhost.drop();
  }
}

test.serial('200 book-then-pay-at-once sequences with the saga flags on: 0 non-2xx, and the saga confirms every booking', async (t) => {
  await withRig(t, { seats: 200 }, async (r) => {
    const { failures, bookings } = await run(r, 200, 4);
    t.deepEqual(failures, [], `${failures.length} non-2xx answers`);
    t.is(bookings.length, 200);
    const w = await waits(r);
    t.log(`payments that found no snapshot yet: ${w.arrived} got it while waiting, ${w.askedBooking} asked booking, ${w.missing} missing`);
    t.true(w.arrived + w.askedBooking > 0, 'the race happened (some payments came before their snapshot)');
    t.is(w.missing, 0);
    await allConfirmed(r, bookings);
  });
});

test.serial('a snapshot that never comes in time (payment consumes no booking events): booking is asked, every payment succeeds', async (t) => {
  const flags = SAGA_FLAGS.filter((f) => f !== 'consume_booking_events');
  await withRig(t, { seats: 20, flags, env: { PAYMENT_SNAPSHOT_WAIT_MS: '50' } }, async (r) => {
    const { failures, bookings } = await run(r, 20, 2);
    t.deepEqual(failures, []);
    t.deepEqual(await waits(r), { arrived: 0, askedBooking: 20, missing: 0 });
    await allConfirmed(r, bookings);
  });
});

// the other ends of the cutover: every module pinned to its own schema, and payment in READ_NEW (own
// schema the write primary, each write copied to the shared table in the same transaction)
const PHASES: { name: string; env?: Record<string, string>; flags?: string[]; legacyCopies: boolean }[] = [
  { name: 'own stores pinned', env: { STORE_MOVIE: 'own', STORE_BOOKING: 'own', STORE_PAYMENT: 'own' }, legacyCopies: false },
  { name: 'payment in READ_NEW', flags: [...SAGA_FLAGS, 'dual_write_payment_db', 'read_from_new_payment_db'], legacyCopies: true },
];
for (const { name, legacyCopies, ...options } of PHASES) {
  test.serial(`${name}: 20 book-then-pay-at-once sequences, 0 non-2xx`, async (t) => {
    await withRig(t, { seats: 20, ...options }, async (r) => {
      const { failures, bookings } = await run(r, 20, 4);
      t.deepEqual(failures, []);
      t.is((await waits(r)).missing, 0);
      const completed = async (schema: string) =>
        (await r.app.app.databases.forModule('payment').withSchema(schema).table('payments').whereIn('booking_id', bookings).where({ status: 'completed' })).length;
      t.is(await completed('payments'), 20);
      t.is(await completed('public'), legacyCopies ? 20 : 0);
    });
  });
}
