import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import test from 'ava';
import { pino } from 'pino';
import type { BookingForPayment } from '../../../src/modules/booking/index.ts';
import { BookingSource, type BookingLookup } from '../../../src/modules/payment/internal/booking-source.ts';
import { BookingNotFoundError } from '../../../src/modules/payment/internal/errors.ts';
import { LegacyBookingLink } from '../../../src/modules/payment/internal/legacy-booking-link.ts';
import { bookingCreatedView } from '../../../src/modules/payment/internal/events.ts';
import { SnapshotStore } from '../../../src/modules/payment/internal/snapshot-store.ts';
import { Databases } from '../../../src/platform/db.ts';
import type { FlagName, Flags } from '../../../src/platform/flags.ts';
import { createMetrics } from '../../../src/platform/metrics.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { legacyBooking, legacyUser } from './fixtures.ts';

let db: TestDatabase;
let databases: Databases;
test.before(async () => {
  db = await createTestDatabase();
  databases = new Databases({ DATABASE_URL: db.url, DB_POOL_MAX: 4, DB_ROLE_PREFIX: 'boxoffice_' });
});
test.after.always(async () => {
  await databases?.closeAll();
  await db?.drop();
});

interface SetupOptions {
  booking?: BookingLookup;
  snapshotWaitMs?: number;
  /** the snapshot store the source reads (default: a plain one) */
  snapshots?: SnapshotStore;
}

function setup(on: Partial<Record<FlagName, boolean>>, options: SetupOptions = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  const flags = { isEnabled: (name: FlagName) => on[name] ?? false } as unknown as Flags;
  const metrics = createMetrics();
  const snapshots = options.snapshots ?? new SnapshotStore('payments');
  const source = new BookingSource({
    link: new LegacyBookingLink('public', 'VND'),
    snapshots,
    defaultCurrency: 'VND',
    booking: options.booking,
    snapshotWaitMs: options.snapshotWaitMs ?? 0,
    snapshotPollMs: 10,
    flags,
    logger,
    metrics,
  });
  return { source, snapshots, lines, metrics };
}

/** a shared bookings row at 100000.00 and a snapshot at `snapshotPrice` */
async function plant(snapshots: SnapshotStore, snapshotPrice: string) {
  const legacy = databases.forRole('legacy', 'public');
  const userId = await legacyUser(legacy);
  const b = await legacyBooking(legacy, { userId, totalPrice: '100000.00' });
  const payload = bookingCreatedView.parse({ booking_id: b.bookingId, user_id: userId, total_price: snapshotPrice, currency: 'VND', expires_at: new Date(Date.now() + 60_000).toISOString() });
  await snapshots.recordCreated(databases.forModule('payment'), randomUUID(), payload, 'VND');
  return { bookingId: b.bookingId, userId };
}

test('verify_booking_snapshot: a planted mismatch is logged with both prices, counted, and the direct read wins', async (t) => {
  const { source, snapshots, lines, metrics } = setup({ verify_booking_snapshot: true, use_booking_snapshot: true });
  const { bookingId, userId } = await plant(snapshots, '80000.00');
  const booking = await source.payable(databases.forModule('payment'), bookingId, userId);
  t.is(booking.totalPrice, '100000.00');
  t.is(booking.source, 'direct');
  const logged = lines.filter((l) => l['msg'] === 'booking snapshot mismatch; using the shared bookings table');
  t.is(logged.length, 1);
  t.like(logged[0], { level: 50, booking_id: bookingId, result: 'mismatch', fields: ['total_price'], snapshot_price: '80000.00', direct_price: '100000.00' });
  const counter = await metrics.registry.getSingleMetric('payment_booking_snapshot_checks_total')!.get();
  t.deepEqual(counter.values.map((v) => [v.labels['result'], v.value]), [['mismatch', 1]]);
});

test('verify_booking_snapshot: a matching snapshot is used (with use_booking_snapshot) and nothing is logged', async (t) => {
  const { source, snapshots, lines, metrics } = setup({ verify_booking_snapshot: true, use_booking_snapshot: true });
  const { bookingId, userId } = await plant(snapshots, '100000.00');
  const booking = await source.payable(databases.forModule('payment'), bookingId, userId);
  t.is(booking.source, 'snapshot');
  t.is(lines.filter((l) => String(l['msg']).includes('mismatch')).length, 0);
  const counter = await metrics.registry.getSingleMetric('payment_booking_snapshot_checks_total')!.get();
  t.deepEqual(counter.values.map((v) => [v.labels['result'], v.value]), [['match', 1]]);
});

test('without verify nothing is compared: use_booking_snapshot alone reads only the snapshot', async (t) => {
  const { source, snapshots, lines, metrics } = setup({ use_booking_snapshot: true });
  const { bookingId, userId } = await plant(snapshots, '80000.00');
  t.is((await source.payable(databases.forModule('payment'), bookingId, userId)).totalPrice, '80000.00');
  t.is(lines.length, 0);
  t.is((await metrics.registry.getSingleMetric('payment_booking_snapshot_checks_total')!.get()).values.length, 0);
});

const waitCounts = async (metrics: ReturnType<typeof createMetrics>) =>
  Object.fromEntries((await metrics.registry.getSingleMetric('payment_booking_snapshot_waits_total')!.get()).values.map((v) => [v.labels['result'], v.value]));

/** a booking payment has no snapshot of (yet): booking.created is still on its way */
function unsnapshotted(): BookingForPayment & { createdEvent: ReturnType<typeof bookingCreatedView.parse> } {
  const bookingId = randomUUID();
  const userId = randomUUID();
  const expiresAt = new Date(Date.now() + 60_000);
  return {
    bookingId, userId, status: 'pending', totalPrice: '150000.00', currency: 'VND', expiresAt,
    createdEvent: bookingCreatedView.parse({ booking_id: bookingId, user_id: userId, total_price: '150000.00', currency: 'VND', expires_at: expiresAt.toISOString() }),
  };
}

/** a booking facade that answers for the given bookings and counts its calls */
function bookingModule(...known: BookingForPayment[]) {
  const asked: string[] = [];
  const lookup: BookingLookup = {
    async getBookingForPayment(id) {
      asked.push(id);
      const b = known.find((k) => k.bookingId === id);
      return b && { bookingId: b.bookingId, userId: b.userId, status: b.status, totalPrice: b.totalPrice, currency: b.currency, expiresAt: b.expiresAt };
    },
  };
  return { lookup, asked };
}

test('use_booking_snapshot, paying before booking.created arrived: the snapshot is waited for and used when it comes', async (t) => {
  const b = unsnapshotted();
  const pool = databases.forModule('payment');
  const { lookup, asked } = bookingModule(b);
  // booking.created is consumed while the payment waits: right after the payment's first look misses
  let looks = 0;
  const snapshots = new (class extends SnapshotStore {
    override async find(db: Parameters<SnapshotStore['find']>[0], id: string) {
      const found = await super.find(db, id);
      if (++looks === 1) await super.recordCreated(pool, randomUUID(), b.createdEvent, 'VND');
      return found;
    }
  })('payments');
  const { source, metrics } = setup({ use_booking_snapshot: true }, { booking: lookup, snapshotWaitMs: 10_000, snapshots });
  const booking = await source.payable(pool, b.bookingId, b.userId);
  t.like(booking, { source: 'snapshot', totalPrice: '150000.00', currency: 'VND' });
  t.deepEqual(asked, [], 'booking was not asked');
  t.deepEqual(await waitCounts(metrics), { arrived: 1 });
});

test('use_booking_snapshot: no snapshot within PAYMENT_SNAPSHOT_WAIT_MS → the booking module is asked', async (t) => {
  const b = unsnapshotted();
  const { lookup, asked } = bookingModule(b);
  const { source, metrics, lines } = setup({ use_booking_snapshot: true }, { booking: lookup, snapshotWaitMs: 150 });
  const started = Date.now();
  const booking = await source.payable(databases.forModule('payment'), b.bookingId, b.userId);
  t.true(Date.now() - started >= 150, 'waited for the snapshot first');
  t.like(booking, { source: 'booking', bookingId: b.bookingId, totalPrice: '150000.00', currency: 'VND', status: 'pending' });
  t.deepEqual(asked, [b.bookingId]);
  t.deepEqual(await waitCounts(metrics), { asked_booking: 1 });
  t.true(lines.some((l) => l['msg'] === 'booking snapshot not there yet; read the booking from the booking module'));
  // the booking module's answer is checked like a snapshot: someone else's booking is 404
  await t.throwsAsync(source.payable(databases.forModule('payment'), b.bookingId, randomUUID()), { instanceOf: BookingNotFoundError });
});

test('use_booking_snapshot: a booking neither the snapshot nor booking knows is 404; without booking in the process too', async (t) => {
  const pool = databases.forModule('payment');
  const withBooking = setup({ use_booking_snapshot: true }, { booking: bookingModule().lookup, snapshotWaitMs: 30 });
  await t.throwsAsync(withBooking.source.payable(pool, randomUUID(), randomUUID()), { instanceOf: BookingNotFoundError });
  t.deepEqual(await waitCounts(withBooking.metrics), { missing: 1 });
  const alone = setup({ use_booking_snapshot: true }, { snapshotWaitMs: 30 });
  await t.throwsAsync(alone.source.payable(pool, randomUUID(), randomUUID()), { instanceOf: BookingNotFoundError });
});

test('old coupling: a shared bookings row with no status and no currency is a pending booking in the default currency, and confirm takes it', async (t) => {
  const legacy = databases.forRole('legacy', 'public');
  const pool = databases.forModule('payment');
  const userId = await legacyUser(legacy);
  const b = await legacyBooking(legacy, { userId, totalPrice: '7.5' });
  await legacy.table('bookings').where({ id: b.bookingId }).update({ status: null });
  const link = new LegacyBookingLink('public', 'VND');
  t.like(await link.read(pool, b.bookingId), { status: 'pending', currency: 'VND', totalPrice: '7.50', source: 'direct' });
  await legacy.table('bookings').where({ id: b.bookingId }).update({ currency: 'EUR' });
  t.like(await link.read(pool, b.bookingId), { currency: 'EUR' });
  t.true(await link.confirm(pool, b.bookingId));
  t.false(await link.confirm(pool, b.bookingId), 'confirmed once');
  t.like(await link.read(pool, b.bookingId), { status: 'confirmed' });
});

test('verify_booking_snapshot with use_booking_snapshot: a booking the shared table no longer has is served from the snapshot (recorded), or by booking', async (t) => {
  const pool = databases.forModule('payment');
  const inSnapshotOnly = unsnapshotted();
  const unknownToPayment = unsnapshotted();
  const { lookup, asked } = bookingModule(unknownToPayment);
  const { source, snapshots, metrics, lines } = setup({ verify_booking_snapshot: true, use_booking_snapshot: true }, { booking: lookup });
  await snapshots.recordCreated(pool, randomUUID(), inSnapshotOnly.createdEvent, 'VND');

  t.like(await source.payable(pool, inSnapshotOnly.bookingId, inSnapshotOnly.userId), { source: 'snapshot', totalPrice: '150000.00' });
  t.true(lines.some((l) => l['msg'] === 'booking missing from the shared bookings table; using the snapshot' && l['result'] === 'direct_missing'));
  t.like(await source.payable(pool, unknownToPayment.bookingId, unknownToPayment.userId), { source: 'booking' });
  t.deepEqual(asked, [unknownToPayment.bookingId]);
  const checks = await metrics.registry.getSingleMetric('payment_booking_snapshot_checks_total')!.get();
  t.deepEqual(Object.fromEntries(checks.values.map((v) => [v.labels['result'], v.value])), { direct_missing: 1, match: 1 });
});
