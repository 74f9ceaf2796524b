import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import test from 'ava';
import { pino } from 'pino';
import { BookingSource } from '../../../src/modules/payment/internal/booking-source.ts';
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

function setup(on: Partial<Record<FlagName, boolean>>) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  const flags = { isEnabled: (name: FlagName) => on[name] ?? false } as unknown as Flags;
  const metrics = createMetrics();
  const snapshots = new SnapshotStore('payments');
  const source = new BookingSource({
    link: new LegacyBookingLink('public', 'VND'),
    snapshots,
    defaultCurrency: 'VND',
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
