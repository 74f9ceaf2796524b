import test from 'ava';
import { startTestApp } from '../../helpers/app.ts';
import { adminToken, createCatalog } from '../../helpers/catalog.ts';
import { createTestVhost, type TestVhost } from '../../helpers/events.ts';
import { declined, expired, happyPath, refundOnCancel, SAGA_FLAGS, type Rig } from './saga-scenarios.ts';

/**
 * The choreographed booking saga end to end over a real RabbitMQ (a vhost per app), with every module in
 * one process exactly as `ROLE=all` runs it — relays, consumers, inboxes, the expiry sweeper:
 *   booking.created → movie holds the seats → POST /payments → payment.completed → booking confirmed
 *   → booking.confirmed → movie sells the seats;
 *   payment.failed → booking cancelled → booking.cancelled → movie releases the seats (bookable again);
 *   expiry → booking.expired → seats released; cancel after payment → payment refunds.
 * Once on the legacy stores (payment reads the shared bookings row) and once on the own stores (payment
 * reads the booking snapshot it built from booking.created).
 */
interface AmqpRig extends Rig {
  vhost: TestVhost;
}

async function rig(stores: 'legacy' | 'own'): Promise<AmqpRig> {
  const vhost = await createTestVhost();
  const flags = stores === 'own' ? [...SAGA_FLAGS, 'use_booking_snapshot'] : SAGA_FLAGS;
  const storeEnv: Record<string, string> = stores === 'own' ? { STORE_MOVIE: 'own', STORE_BOOKING: 'own', STORE_PAYMENT: 'own' } : {};
  const app = await startTestApp({
    env: {
      ...storeEnv,
      DB_POOL_MAX: '3',
      AMQP_URL: vhost.url,
      EVENTS_RELAY_POLL_MS: '100',
      EVENTS_RETRY_DELAYS_MS: '100,200',
      BOOKING_SWEEP_INTERVAL_MS: '200',
      FLAGS_BOOTSTRAP: flags.map((f) => `${f}=true`).join(','),
    },
  });
  const admin = await adminToken(app);
  const catalog = await createCatalog(app, admin, { rows: 2, perRow: 5, basePrice: '100000' });
  return { app, vhost, admin, catalog };
}

async function teardown(r: AmqpRig | undefined): Promise<void> {
  await r?.app.stop();
  await r?.vhost.drop();
}

for (const stores of ['legacy', 'own'] as const) {
  test.serial(`saga over the broker (${stores} stores): confirm, decline → cancel, expiry, refund on cancel`, async (t) => {
    t.timeout(180_000);
    let r: AmqpRig | undefined;
    try {
      r = await rig(stores);
      await happyPath(t, r, stores);
      await declined(t, r, stores);
      await expired(t, r);
      await refundOnCancel(t, r, stores);
    } finally {
      await teardown(r);
    }
  });
}
