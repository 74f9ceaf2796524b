import { randomUUID } from 'node:crypto';
import { createLegacyPaymentStore } from '../../../src/modules/payment/internal/legacy-payment-store.ts';
import { createOwnPaymentStore } from '../../../src/modules/payment/internal/own-payment-store.ts';
import { PAYMENT_STORE_METHODS, type NewPayment, type PaymentStore } from '../../../src/modules/payment/internal/payment-store.ts';
import type { WriteExercise } from '../../migration/write-exercise.ts';

const draft = (currency: string, amount: string): NewPayment => ({
  id: randomUUID(),
  bookingId: randomUUID(),
  userId: randomUUID(),
  amount,
  currency,
  paymentMethod: 'card',
  idempotencyKey: randomUUID(),
});

/** Every write of payment's store, through the routed store (test/migration/write-coverage.test.ts). */
export const writeExercises: WriteExercise[] = [
  {
    module: 'payment',
    store: ({ legacySchema }) => ({
      module: 'payment',
      name: 'payments',
      legacy: createLegacyPaymentStore(legacySchema, 'VND'),
      own: createOwnPaymentStore(),
      methods: PAYMENT_STORE_METHODS,
    }),
    async exercise(store, db) {
      const payments = store as PaymentStore;
      // bookings are referenced by id only (no cross-module keys): none need to exist
      const [paid, declined, refunded, open] = await db.transaction(async (trx) => [
        await payments.insertPending(trx, draft('VND', '240000.00')),
        await payments.insertPending(trx, draft('EUR', '12.50')),
        await payments.insertPending(trx, draft('VND', '99999999.99')),
        await payments.insertPending(trx, { ...draft('USD', '0.00'), paymentMethod: null, idempotencyKey: null }),
      ]);
      await payments.markCompleted(db, paid!.id, 'ch_fake_paid');
      await payments.markFailed(db, declined!.id);
      // several writes in the caller's transaction, as Settlement does: the copies commit with them
      await db.transaction(async (trx) => {
        await payments.lockById(trx, refunded!.id);
        await payments.markCompleted(trx, refunded!.id, 'ch_fake_refunded');
        await payments.markRefunded(trx, refunded!.id);
      });
      if (!open) throw new Error('no pending payment was written');
    },
  } satisfies WriteExercise<PaymentStore> as WriteExercise,
];
