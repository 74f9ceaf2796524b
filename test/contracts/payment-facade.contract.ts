import type { TestFn } from 'ava';
import type { PaymentFacade } from '../../src/modules/payment/index.ts';
import { api } from '../helpers/app.ts';
import { forgeUsers } from '../helpers/catalog.ts';
import { legacyBooking, legacyDb, pay } from '../modules/payment/fixtures.ts';
import { contractCases, type FacadeFixture } from './facade-contract.ts';

export type PaymentFixture = FacadeFixture<PaymentFacade>;

/** One contract for every PaymentFacade adapter: the view GET /api/v1/payments/:id shows its owner. */
export function paymentFacadeContract(test: TestFn, name: string, fixture: () => PaymentFixture): void {
  const t = contractCases(test, `payment facade, ${name}`, fixture);

  const paid = async (f: PaymentFixture, card: string) => {
    const [user] = await forgeUsers(f.host, 1);
    const b = await legacyBooking(legacyDb(f.host), { userId: user!.id, totalPrice: '99000.00' });
    const res = await pay(f.host, { token: user!.token, bookingId: b.bookingId, card });
    const view = await api(f.host.url, 'GET', `/api/v1/payments/${res.body.id}`, { token: user!.token });
    if (view.status !== 200) throw new Error(`payment view: ${view.status} ${JSON.stringify(view.body)}`);
    return view.body;
  };

  t('a completed payment: the same view its owner gets over the public API', async (tc, f) => {
    const view = await paid(f, 'tok_success');
    tc.is(view.status, 'completed');
    tc.deepEqual(await f.facade.getPayment(view.id), view);
  });

  t('a declined payment, with the gateway\'s reason', async (tc, f) => {
    const view = await paid(f, 'tok_decline');
    tc.is(view.status, 'failed');
    tc.truthy(view.failure_reason);
    tc.deepEqual(await f.facade.getPayment(view.id), view);
  });

  t('an unknown or malformed payment id is undefined, not an error', async (tc, f) => {
    tc.is(await f.facade.getPayment('00000000-0000-4000-8000-000000000000'), undefined);
    tc.is(await f.facade.getPayment('not-a-uuid'), undefined);
  });
}
