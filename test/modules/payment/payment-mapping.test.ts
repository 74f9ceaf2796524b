import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createPaymentMapping } from '../../../src/modules/payment/index.ts';
import { createLegacyPaymentStore } from '../../../src/modules/payment/internal/legacy-payment-store.ts';
import { createOwnPaymentStore } from '../../../src/modules/payment/internal/own-payment-store.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { compareSides, useMappingDatabase } from '../../helpers/strangler.ts';

/**
 * payment's mapping (payment-mapping.ts) against the stores: what the old system wrote, copied to the
 * payments schema by the generated SQL, reads back through the own store exactly as the legacy store
 * reads it — and the other way round — and copying again changes nothing.
 */
const fx = useMappingDatabase(test);

const mapping = createPaymentMapping({ defaultCurrency: 'VND' });
const legacyStore = createLegacyPaymentStore('public', 'VND');
const ownStore = createOwnPaymentStore();
const pool = () => fx.databases.forModule('payment');
/** backfill and repair run the generated functions as the migration role */
const copy = async (to: 'own' | 'legacy', ids: string[]) => {
  const { rows } = (await fx.databases.forRole('migration', 'migration').raw(`SELECT migration.payment__payments_copy_to_${to}(?::uuid[]) AS n`, [ids])) as { rows: { n: number }[] };
  return rows[0]!.n;
};
const xmins = async (schema: string, ids: string[]) =>
  ((await fx.admin.withSchema(schema).table('payments').whereIn('id', ids).orderBy('id').select('id', fx.admin.raw('xmin::text AS xmin'))) as { id: string; xmin: string }[]);

test.serial('old rows (no currency, NULL status, no timestamps) → copy_to_own → the own store reads what the legacy store reads; copying again changes nothing', async (t) => {
  const legacy = fx.databases.forRole('legacy', 'public');
  const row = (patch: Record<string, unknown>) => ({ id: randomUUID(), booking_id: randomUUID(), user_id: randomUUID(), amount: '180000.00', ...patch });
  const rows = [
    // what the old payment service wrote for a paid booking (microseconds, as CURRENT_TIMESTAMP stores them)
    row({ status: 'completed', payment_method: 'credit_card', transaction_id: 'txn_0a1b2c', idempotency_key: 'old-key-1', created_at: '2023-05-06 07:08:09.123456', updated_at: '2023-05-06 07:08:19.654321' }),
    // every nullable old column NULL
    row({ amount: '1', status: null, payment_method: null, transaction_id: null, idempotency_key: null, created_at: null, updated_at: null }),
    // created but never updated
    row({ status: 'refunded', created_at: '2024-01-31 23:59:59', updated_at: null }),
    // what the legacy store writes now: the payment's own currency
    row({ amount: '12.5', currency: 'EUR', status: 'failed', payment_method: 'card', created_at: '2025-02-03 04:05:06', updated_at: '2025-02-03 04:05:07' }),
  ];
  await legacy.table('payments').insert(rows);
  const ids = rows.map((r) => r.id).sort();

  t.is(await copy('own', ids), ids.length);
  for (const id of ids) {
    const fromLegacy = await legacyStore.findById(pool(), id);
    t.truthy(fromLegacy);
    t.deepEqual(await ownStore.findById(pool(), id), fromLegacy, `payment ${id}`);
  }
  t.like(await ownStore.findById(pool(), rows[1]!.id), { currency: 'VND', status: 'pending', createdAt: new Date(0), updatedAt: new Date(0) });
  t.like(await ownStore.findById(pool(), rows[2]!.id), { updatedAt: new Date('2024-01-31T23:59:59Z') });
  t.deepEqual(await compareSides(fx.admin, mapping), []);

  const before = await xmins('payments', ids);
  await copy('own', ids);
  t.deepEqual(await xmins('payments', ids), before, 'a second copy rewrites no row');
});

test.serial('a payment the own store wrote → copy_to_legacy → the legacy store reads it back equal, currency included', async (t) => {
  const id = randomUUID();
  await pool().transaction((trx) =>
    ownStore.insertPending(trx, { id, bookingId: randomUUID(), userId: randomUUID(), amount: '99.95', currency: 'EUR', paymentMethod: 'card', idempotencyKey: randomUUID() }),
  );
  await ownStore.markCompleted(pool(), id, 'ch_fake_own');
  const declined = randomUUID();
  await pool().transaction((trx) =>
    ownStore.insertPending(trx, { id: declined, bookingId: randomUUID(), userId: randomUUID(), amount: '0.00', currency: 'USD', paymentMethod: null, idempotencyKey: null }),
  );
  await ownStore.markFailed(pool(), declined);

  t.is(await copy('legacy', [id, declined]), 2);
  for (const key of [id, declined]) t.deepEqual(await legacyStore.findById(pool(), key), await ownStore.findById(pool(), key));
  t.like(await fx.admin.table('payments').where({ id }).first(), { currency: 'EUR', status: 'completed', transaction_id: 'ch_fake_own' });
  t.deepEqual(await compareSides(fx.admin, mapping), []);
  const before = await xmins('public', [id, declined]);
  await copy('legacy', [id, declined]);
  t.deepEqual(await xmins('public', [id, declined]), before, 'a second copy rewrites no row');
});

test('the mapping refuses a default currency that is not an ISO 4217 code (it becomes SQL)', (t) => {
  t.throws(() => createPaymentMapping({ defaultCurrency: "VND'; DROP TABLE payments; --" }), { instanceOf: RangeError });
  t.deepEqual(mapping.ownOnly.map((o) => o.table).sort(), ['booking_snapshots', 'fake_gateway_ledger', 'idempotency_keys', 'inbox', 'outbox', 'transactions']);
});
