import type { BoxofficeModule, PlatformDeps } from '../../platform/module.ts';
import type { BookingFacade } from '../booking/index.ts';
import { BookingSource } from './internal/booking-source.ts';
import { createBookingEventHandlers } from './internal/booking-event-handlers.ts';
import { createPaymentInternalRoutes, createRemotePaymentReads } from './internal/facade-http.ts';
import type { InternalClient } from '../../platform/http/internal-client.ts';
import { createFakeGateway } from './internal/fake-gateway.ts';
import { GatewayLog } from './internal/gateway-log.ts';
import { IdempotencyCache } from './internal/idempotency-cache.ts';
import { IdempotencyStore } from './internal/idempotency-store.ts';
import { LegacyBookingLink } from './internal/legacy-booking-link.ts';
import { createLegacyPaymentStore } from './internal/legacy-payment-store.ts';
import { createOwnPaymentStore } from './internal/own-payment-store.ts';
import { PaymentService } from './internal/payment-service.ts';
import { PAYMENT_STORE_METHODS } from './internal/payment-store.ts';
import { createPaymentRoutes } from './internal/routes.ts';
import { Settlement } from './internal/settlement.ts';
import { SnapshotStore } from './internal/snapshot-store.ts';
import { toPaymentView, type PaymentView } from './internal/views.ts';

export { createPaymentMapping } from './internal/payment-mapping.ts';
export { paymentCompletedV1, paymentFailedV1, paymentInitiatedV1, paymentRefundedV1 } from './internal/events.ts';
export { FAKE_TOKENS } from './internal/fake-gateway.ts';
export type { PaymentView };

/** What other modules may use of payment. State changes travel as payment.* events, not through here. */
export interface PaymentFacade {
  /** a payment by id (operators, admin pages); undefined when there is none */
  getPayment(paymentId: string): Promise<PaymentView | undefined>;
}

export type PaymentModule = BoxofficeModule<PaymentFacade>;

export interface PaymentDeps extends PlatformDeps {
  /**
   * booking's facade, in-process or remote (SERVICE_URL_BOOKING): asked for a booking whose snapshot has
   * not arrived within PAYMENT_SNAPSHOT_WAIT_MS (absent when neither — the payment then waits only)
   */
  booking?: BookingFacade | undefined;
}

const SCHEMA = 'payments';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function createPaymentModule(deps: PaymentDeps): PaymentModule {
  const { config, db, flags, logger, metrics } = deps;
  if (config.PAYMENT_IDEMPOTENCY_LOCK_TIMEOUT_MS <= config.PAYMENT_GATEWAY_TIMEOUT_MS + config.PAYMENT_SNAPSHOT_WAIT_MS) {
    // a request still waiting for its booking or for the gateway must never look abandoned to the next one
    throw new RangeError('PAYMENT_IDEMPOTENCY_LOCK_TIMEOUT_MS must be longer than PAYMENT_GATEWAY_TIMEOUT_MS + PAYMENT_SNAPSHOT_WAIT_MS');
  }
  if (config.NODE_ENV === 'production') logger.warn('PAYMENT_GATEWAY=fake: payments are simulated (tok_success, tok_decline, tok_timeout)');
  const store = deps.stores.route({
    module: 'payment',
    name: 'payments',
    legacy: createLegacyPaymentStore(config.LEGACY_SCHEMA, config.DEFAULT_CURRENCY),
    own: createOwnPaymentStore(SCHEMA),
    methods: PAYMENT_STORE_METHODS,
  });
  const legacyBookings = new LegacyBookingLink(config.LEGACY_SCHEMA, config.DEFAULT_CURRENCY);
  const gateway = createFakeGateway({
    db,
    schema: SCHEMA,
    crash: async () => {
      if (config.PAYMENT_FAKE_CRASH_MODE === 'kill') {
        logger.fatal('fake gateway: tok_charge_then_crash charged; killing this process before the outcome is recorded');
        process.kill(process.pid, 'SIGKILL');
        return new Promise<never>(() => {});
      }
      throw new Error('fake gateway: simulated crash after the charge (tok_charge_then_crash)');
    },
  });
  const log = new GatewayLog(SCHEMA, metrics);
  const keys = new IdempotencyStore({
    schema: SCHEMA,
    ttlSeconds: config.PAYMENT_IDEMPOTENCY_TTL_SECONDS,
    lockTimeoutMs: config.PAYMENT_IDEMPOTENCY_LOCK_TIMEOUT_MS,
  });
  const snapshots = new SnapshotStore(SCHEMA);
  const settlement = new Settlement({
    schema: SCHEMA,
    store,
    legacyBookings,
    keys,
    gateway,
    log,
    flags,
    logger,
    gatewayTimeoutMs: config.PAYMENT_GATEWAY_TIMEOUT_MS,
  });
  const service = new PaymentService({
    db,
    schema: SCHEMA,
    store,
    keys,
    cache: new IdempotencyCache({ redis: deps.redis, keyPrefix: config.REDIS_KEY_PREFIX, logger }),
    bookings: new BookingSource({
      link: legacyBookings,
      snapshots,
      defaultCurrency: config.DEFAULT_CURRENCY,
      booking: deps.booking,
      snapshotWaitMs: config.PAYMENT_SNAPSHOT_WAIT_MS,
      flags,
      logger,
      metrics,
    }),
    gateway,
    log,
    settlement,
    logger,
    metrics,
    gatewayTimeoutMs: config.PAYMENT_GATEWAY_TIMEOUT_MS,
  });
  const facade: PaymentFacade = {
    async getPayment(paymentId) {
      if (!UUID.test(paymentId)) return undefined;
      const p = await store.findById(db, paymentId);
      return p ? toPaymentView(p, await log.failureReason(db, p.id)) : undefined;
    },
  };
  logger.info({ stores: deps.stores.describe('payment'), gateway: gateway.name, asksBooking: Boolean(deps.booking) }, 'payment module ready');
  return {
    name: 'payment',
    facade,
    routes: [...createPaymentRoutes({ service, authenticator: deps.authenticator }), createPaymentInternalRoutes(facade)],
    workers: [],
    outbox: { schema: SCHEMA },
    consumer: {
      queue: 'payment-service.events',
      bindings: ['booking.*'],
      handlers: createBookingEventHandlers({ snapshots, settlement, defaultCurrency: config.DEFAULT_CURRENCY, logger }),
      enabled: () => flags.isEnabled('consume_booking_events'),
    },
    async start() {},
    async stop() {},
    async health() {
      await db.raw('select 1');
      return { status: 'ok', details: { stores: deps.stores.describe('payment'), gateway: gateway.name } };
    },
  };
}

/** payment's facade for a process that does not host payment (SERVICE_URL_PAYMENT): the same read over HTTP */
export function createRemotePaymentFacade(client: InternalClient): PaymentFacade {
  return createRemotePaymentReads(client);
}
