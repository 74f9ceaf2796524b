import { randomUUID } from 'node:crypto';
import type { ExecutionContext, TestFn } from 'ava';
import type { Knex } from '../../../src/platform/db.ts';
import { PaymentExistsError } from '../../../src/modules/payment/internal/errors.ts';
import type { NewPayment, PaymentStore } from '../../../src/modules/payment/internal/payment-store.ts';
import { backendPid, waitUntilBlockedBy } from '../../helpers/db.ts';

export interface StoreFixture {
  store: PaymentStore;
  /** the payment module's pool */
  db: Knex;
  /** the currency the store's payments are in */
  currency: string;
  /** a booking (and its user) the store may reference */
  newBooking(): Promise<{ bookingId: string; userId: string }>;
}

const draft = (b: { bookingId: string; userId: string }, currency: string, amount = '240000.00'): NewPayment => ({
  id: randomUUID(),
  bookingId: b.bookingId,
  userId: b.userId,
  amount,
  currency,
  paymentMethod: 'card',
  idempotencyKey: randomUUID(),
});

const insert = (f: StoreFixture, p: NewPayment) => f.db.transaction((trx) => f.store.insertPending(trx, p));

/** One behavioural contract for every PaymentStore (legacy shared table, own schema). */
export function paymentStoreContract(test: TestFn, name: string, fixture: () => StoreFixture): void {
  const t = (title: string, fn: (t: ExecutionContext, f: StoreFixture) => Promise<void>) => test(`${name}: ${title}`, (tc) => fn(tc, fixture()));

  t('insertPending then find by id, by booking, exact amounts', async (tc, f) => {
    const booking = await f.newBooking();
    const p = draft(booking, f.currency, '1234567.89');
    const created = await insert(f, p);
    tc.is(created.id, p.id);
    tc.is(created.status, 'pending');
    tc.is(created.amount, '1234567.89');
    tc.is(created.currency, f.currency);
    tc.is(created.paymentMethod, 'card');
    tc.is(created.transactionId, null);
    tc.is(created.idempotencyKey, p.idempotencyKey);
    tc.true(created.createdAt instanceof Date);
    tc.deepEqual(await f.store.findById(f.db, p.id), created);
    tc.deepEqual((await f.store.findByBooking(f.db, booking.bookingId)).map((x) => x.id), [p.id]);
    tc.is(await f.store.findById(f.db, randomUUID()), undefined);
    tc.deepEqual(await f.store.findByBooking(f.db, randomUUID()), []);
  });

  t('a booking has at most one pending or completed payment; a failed one makes room for another', async (tc, f) => {
    const booking = await f.newBooking();
    const first = await insert(f, draft(booking, f.currency));
    const err = await tc.throwsAsync(insert(f, draft(booking, f.currency)), { instanceOf: PaymentExistsError });
    tc.is(err?.extra['payment_id'], first.id);
    await f.store.markCompleted(f.db, first.id, 'ch_1');
    await tc.throwsAsync(insert(f, draft(booking, f.currency)), { instanceOf: PaymentExistsError });

    const other = await f.newBooking();
    const failed = await insert(f, draft(other, f.currency));
    await f.store.markFailed(f.db, failed.id);
    const retry = await insert(f, draft(other, f.currency));
    tc.is(retry.status, 'pending');
    tc.is((await f.store.findByBooking(f.db, other.bookingId)).length, 2);
  });

  t('concurrent inserts for one booking: exactly one wins', async (tc, f) => {
    const booking = await f.newBooking();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => insert(f, draft(booking, f.currency))));
    tc.is(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') tc.true(r.reason instanceof PaymentExistsError, String(r.reason));
    tc.is((await f.store.findByBooking(f.db, booking.bookingId)).length, 1);
  });

  t('transitions only from the right status: pending → completed → refunded, pending → failed', async (tc, f) => {
    const a = await insert(f, draft(await f.newBooking(), f.currency));
    tc.is(await f.store.markRefunded(f.db, a.id), undefined, 'a pending payment cannot be refunded');
    const completed = await f.store.markCompleted(f.db, a.id, 'ch_abc');
    tc.is(completed?.status, 'completed');
    tc.is(completed?.transactionId, 'ch_abc');
    tc.is(await f.store.markCompleted(f.db, a.id, 'ch_other'), undefined, 'completed once');
    tc.is(await f.store.markFailed(f.db, a.id), undefined, 'a completed payment cannot fail');
    tc.is((await f.store.markRefunded(f.db, a.id))?.status, 'refunded');
    tc.is(await f.store.markRefunded(f.db, a.id), undefined, 'refunded once');
    tc.is((await f.store.findById(f.db, a.id))?.transactionId, 'ch_abc');

    const b = await insert(f, draft(await f.newBooking(), f.currency));
    tc.is((await f.store.markFailed(f.db, b.id))?.status, 'failed');
    tc.is(await f.store.markCompleted(f.db, b.id, 'ch_late'), undefined, 'a failed payment cannot complete');
    tc.is(await f.store.markCompleted(f.db, randomUUID(), 'ch_x'), undefined);
  });

  t('lockById holds the row until the transaction ends', async (tc, f) => {
    const p = await insert(f, draft(await f.newBooking(), f.currency));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: (pid: number) => void;
    const lockerPid = new Promise<number>((r) => (locked = r));
    const locker = f.db.transaction(async (trx) => {
      const pid = await backendPid(trx);
      tc.is((await f.store.lockById(trx, p.id))?.id, p.id);
      locked(pid);
      await held;
      await f.store.markCompleted(trx, p.id, 'ch_first');
    });
    const pid = await lockerPid;
    const waiter = f.db.transaction(async (trx) => (await f.store.lockById(trx, p.id))?.status);
    await waitUntilBlockedBy(f.db, pid);
    release();
    await locker;
    tc.is(await waiter, 'completed', 'the second locker saw the first one’s committed change');
  });

  t('writes inside a rolled-back transaction leave nothing', async (tc, f) => {
    const p = draft(await f.newBooking(), f.currency);
    const inserted: string[] = [];
    const rolledBack = f.db.transaction(async (trx) => {
      inserted.push((await f.store.insertPending(trx, p)).id);
      throw new Error('planned rollback');
    });
    // the insert itself must have worked: only the planned error may end the transaction
    await tc.throwsAsync(rolledBack, { message: 'planned rollback' });
    tc.deepEqual(inserted, [p.id]);
    tc.is(await f.store.findById(f.db, p.id), undefined);
  });
}
