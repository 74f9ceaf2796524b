import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Knex } from '../../../src/platform/db.ts';
import { buildEnvelope, defineEvent, type Envelope } from '../../../src/platform/events/envelope.ts';
import type { EventHandler } from '../../../src/platform/module.ts';
import type { PaymentModule } from '../../../src/modules/payment/index.ts';
import { api, type TestApp } from '../../helpers/app.ts';

/**
 * Legacy rows a payment needs, written straight into the shared tables as the legacy role (the booking
 * module is written concurrently, so these tests do not go through it): a user, a movie, a theater and a
 * showtime, and a booking of the user.
 */
export async function legacyUser(legacy: Knex, id: string = randomUUID()): Promise<string> {
  await legacy.table('users').insert({ id, email: `pay-${id.slice(0, 8)}-${randomBytes(3).toString('hex')}@example.com`, hashed_password: 'x', full_name: 'Payer' }).onConflict('id').ignore();
  return id;
}

export interface LegacyBookingOptions {
  userId: string;
  totalPrice?: string;
  status?: 'pending' | 'confirmed' | 'cancelled' | 'expired';
  /** default: 15 minutes from now */
  expiresAt?: Date | null;
}

export interface LegacyBooking {
  bookingId: string;
  userId: string;
  showtimeId: string;
  totalPrice: string;
}

export async function legacyBooking(legacy: Knex, options: LegacyBookingOptions): Promise<LegacyBooking> {
  const [movie] = (await legacy.table('movies').insert({ title: `Film ${randomBytes(3).toString('hex')}`, duration_minutes: 120 }).returning('id')) as { id: string }[];
  const [theater] = (await legacy.table('theaters').insert({ name: `Screen ${randomBytes(3).toString('hex')}`, total_seats: 50 }).returning('id')) as { id: string }[];
  const start = new Date(Date.now() + 48 * 3600_000);
  const [showtime] = (await legacy
    .table('showtimes')
    .insert({ movie_id: movie!.id, theater_id: theater!.id, start_time: start, end_time: new Date(start.getTime() + 2 * 3600_000), price: '120000.00', available_seats: 50 })
    .returning('id')) as { id: string }[];
  const totalPrice = options.totalPrice ?? '240000.00';
  const [booking] = (await legacy
    .table('bookings')
    .insert({
      user_id: options.userId,
      showtime_id: showtime!.id,
      status: options.status ?? 'pending',
      total_price: totalPrice,
      expires_at: options.expiresAt === undefined ? new Date(Date.now() + 15 * 60_000) : options.expiresAt,
    })
    .returning('id')) as { id: string }[];
  return { bookingId: booking!.id, userId: options.userId, showtimeId: showtime!.id, totalPrice };
}

/** The legacy role's pool of a test app (owner of the shared tables). */
export const legacyDb = (t: TestApp): Knex => t.app.databases.forRole('legacy', 'public');
/** The payment module's pool (role boxoffice_payments). */
export const paymentsDb = (t: TestApp): Knex => t.app.databases.forModule('payment');

export function paymentModule(t: TestApp): PaymentModule {
  const m = t.app.host.modules.find((x) => x.name === 'payment');
  if (!m) throw new Error('the app does not host payment');
  return m as PaymentModule;
}

// Hand-built booking events (what the booking module will publish; seed 002 §8.4.3).
const anyPayload = z.record(z.string(), z.unknown());
const bookingCreated = defineEvent('booking.created', '1.0', anyPayload);
const bookingEvent = (type: string) => defineEvent(type, '1.0', anyPayload);

export function bookingCreatedEvent(b: { bookingId: string; userId: string; totalPrice: string | number; currency?: string; expiresAt?: Date }): Envelope {
  const expires = b.expiresAt ?? new Date(Date.now() + 15 * 60_000);
  return buildEnvelope(
    bookingCreated,
    {
      booking_id: b.bookingId,
      user_id: b.userId,
      user_email: 'payer@example.com',
      showtime_id: randomUUID(),
      showtime_snapshot: { movie_title: 'Dune: Part Three', theater_name: 'CGV Vincom', start_time: new Date(Date.now() + 86_400_000).toISOString(), base_price: '120000.00', currency: b.currency ?? 'VND' },
      seats: [{ seat_id: randomUUID(), row: 'A', number: 1, price: '120000.00' }],
      total_price: b.totalPrice,
      currency: b.currency ?? 'VND',
      status: 'pending',
      expires_at: expires.toISOString(),
      created_at: new Date().toISOString(),
    },
    { source: 'booking' },
  );
}

export function bookingEndedEvent(type: 'booking.cancelled' | 'booking.expired' | 'booking.confirmed', b: { bookingId: string; userId: string }): Envelope {
  return buildEnvelope(bookingEvent(type), { booking_id: b.bookingId, user_id: b.userId, reason: 'user_cancelled', seat_ids: [], showtime_id: randomUUID(), refund_required: true }, { source: 'booking' });
}

/**
 * What the event backbone's consumer does with one message: the event id into payments.inbox and the
 * handler, in ONE transaction on the payment pool. 'duplicate' when the inbox already had the id.
 */
export async function deliver(t: TestApp, event: Envelope): Promise<'handled' | 'duplicate'> {
  const handler: EventHandler | undefined = paymentModule(t).consumer!.handlers[event.event_type];
  if (!handler) throw new Error(`payment has no handler for ${event.event_type}`);
  return paymentsDb(t).transaction(async (trx) => {
    const fresh = await trx.withSchema('payments').table('inbox').insert({ event_id: event.event_id, event_type: event.event_type }).onConflict('event_id').ignore().returning('event_id');
    if (fresh.length === 0) return 'duplicate' as const;
    await handler(event, trx);
    return 'handled' as const;
  });
}

export interface PayOptions {
  token: string;
  bookingId: string;
  card?: string;
  key?: string | null;
  body?: unknown;
}

/** POST /api/v1/payments; `key: null` leaves the Idempotency-Key header out. */
export function pay(t: TestApp, o: PayOptions) {
  const key = o.key === undefined ? randomUUID() : o.key;
  return api(t.url, 'POST', '/api/v1/payments', {
    token: o.token,
    headers: key === null ? {} : { 'Idempotency-Key': key },
    body: o.body ?? { booking_id: o.bookingId, payment_method: { type: 'card', token: o.card ?? 'tok_success' } },
  });
}

/** The fake gateway's ledger: successful charges, refunds, and every request made under a key. */
export async function ledger(db: Knex, where: { charge?: string } = {}) {
  const rows = (await db.withSchema('payments').table('fake_gateway_ledger').select('*')) as {
    idempotency_key: string;
    operation: string;
    outcome: string;
    requests: number;
    charge_reference: string | null;
    reference: string;
  }[];
  const scoped = where.charge ? rows.filter((r) => r.idempotency_key.startsWith(`payment:${where.charge}:`)) : rows;
  return {
    charges: scoped.filter((r) => r.operation === 'charge' && r.outcome === 'succeeded').length,
    declines: scoped.filter((r) => r.operation === 'charge' && r.outcome === 'declined').length,
    refunds: scoped.filter((r) => r.operation === 'refund').length,
    requests: scoped.reduce((n, r) => n + r.requests, 0),
    rows: scoped,
  };
}

export async function outboxTypes(db: Knex, paymentId?: string): Promise<string[]> {
  const rows = (await db.withSchema('payments').table('outbox').orderBy('id').select('event_type', 'envelope')) as { event_type: string; envelope: Envelope }[];
  return rows.filter((r) => !paymentId || r.envelope.payload['payment_id'] === paymentId).map((r) => r.event_type);
}

export async function transactionsOf(db: Knex, paymentId: string) {
  return (await db.withSchema('payments').table('transactions').where({ payment_id: paymentId }).orderBy('created_at')) as {
    type: string;
    status: string;
    gateway_reference: string | null;
    replayed: boolean | null;
    latency_ms: number | null;
    error: string | null;
    request: Record<string, unknown>;
  }[];
}

/** The value of a counter (with these labels) in the app's registry. */
export async function counterValue(t: TestApp, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = t.app.metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((n, v) => n + v.value, 0);
}
