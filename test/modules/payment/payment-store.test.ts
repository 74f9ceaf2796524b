import { randomUUID } from 'node:crypto';
import test from 'ava';
import { PaymentExistsError } from '../../../src/modules/payment/internal/errors.ts';
import { createLegacyPaymentStore } from '../../../src/modules/payment/internal/legacy-payment-store.ts';
import { createOwnPaymentStore } from '../../../src/modules/payment/internal/own-payment-store.ts';
import { Databases } from '../../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { legacyBooking, legacyUser } from './fixtures.ts';
import { paymentStoreContract } from './payment-store.contract.ts';

let db: TestDatabase;
let databases: Databases;
test.before(async () => {
  db = await createTestDatabase();
  databases = new Databases({ DATABASE_URL: db.url, DB_POOL_MAX: 6, DB_ROLE_PREFIX: 'boxoffice_' });
});
test.after.always(async () => {
  await databases?.closeAll();
  await db?.drop();
});

/** bookings in the legacy tables (the legacy payments table's foreign keys need them; the own store does not care) */
const newBooking = async () => {
  const legacy = databases.forRole('legacy', 'public');
  const userId = await legacyUser(legacy);
  const b = await legacyBooking(legacy, { userId });
  return { bookingId: b.bookingId, userId };
};

// both run as the payment module's role, as in production
// the legacy store keeps a payment's own currency (EUR here), not the default the old rows are in
paymentStoreContract(test, 'legacy store (public.payments)', () => ({
  store: createLegacyPaymentStore('public', 'VND'),
  db: databases.forModule('payment'),
  currency: 'EUR',
  newBooking,
}));
paymentStoreContract(test, 'own store (payments.payments)', () => ({
  store: createOwnPaymentStore(),
  db: databases.forModule('payment'),
  currency: 'EUR',
  newBooking,
}));

test('legacy store: a payment may name a booking the shared tables do not have (cross-module keys are gone, ADR 0050)', async (t) => {
  const store = createLegacyPaymentStore('public', 'VND');
  const pool = databases.forModule('payment');
  const p = await pool.transaction((trx) =>
    store.insertPending(trx, { id: randomUUID(), bookingId: randomUUID(), userId: randomUUID(), amount: '1.00', currency: 'USD', paymentMethod: 'card', idempotencyKey: randomUUID() }),
  );
  t.like(await store.findById(pool, p.id), { status: 'pending', currency: 'USD' });
});

test('legacy store: a row the old system wrote (no currency, status or timestamps) reads as it showed it; a NULL status is pending', async (t) => {
  const store = createLegacyPaymentStore('public', 'VND');
  const pool = databases.forModule('payment');
  const { bookingId, userId } = await newBooking();
  const id = randomUUID();
  await databases.forRole('legacy', 'public').table('payments').insert({ id, booking_id: bookingId, user_id: userId, amount: '5', status: null, created_at: null, updated_at: null });
  t.deepEqual(await store.findById(pool, id), {
    id, bookingId, userId, amount: '5.00', currency: 'VND', status: 'pending',
    paymentMethod: null, transactionId: null, idempotencyKey: null, createdAt: new Date(0), updatedAt: new Date(0),
  });
  await t.throwsAsync(
    pool.transaction((trx) => store.insertPending(trx, { id: randomUUID(), bookingId, userId, amount: '5.00', currency: 'VND', paymentMethod: 'card', idempotencyKey: randomUUID() })),
    { instanceOf: PaymentExistsError },
    'a NULL status is an active payment',
  );
  const completed = await store.markCompleted(pool, id, 'ch_old');
  t.like(completed, { status: 'completed', transactionId: 'ch_old', currency: 'VND', createdAt: new Date(0) });
  t.true(completed!.updatedAt.getTime() > 0);
});

test('own store: the partial unique index refuses a second active payment even without the store’s lock', async (t) => {
  const pool = databases.forModule('payment');
  const { bookingId, userId } = await newBooking();
  const row = (id: string) => ({ id, booking_id: bookingId, user_id: userId, amount: '1.00', currency: 'VND', status: 'pending' });
  await pool.withSchema('payments').table('payments').insert(row(randomUUID()));
  const err = await t.throwsAsync(pool.withSchema('payments').table('payments').insert(row(randomUUID())));
  t.regex(String(err?.message), /payments_booking_active_key/);
});
