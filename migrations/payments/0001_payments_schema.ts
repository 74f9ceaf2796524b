import type { Knex } from 'knex';
import { createInboxTableV1, createOutboxNotifyTriggerV1, createOutboxTableV1 } from '../../src/platform/events/outbox-ddl.ts';

/**
 * The payment module's own schema (seed 002 §4.4, §8.2; ADR 0030, 0031). No foreign keys into other
 * schemas: bookings and users are referenced by id only.
 *
 *  - payments: at most one pending or completed payment per booking (partial unique index) — a second
 *    payment for a booking that is paid or being paid is refused whatever idempotency key it carries.
 *    `idempotency_key` holds the id of the idempotency_keys row that created the payment (unique, as in
 *    the legacy table), so one key record can never create two payments.
 *  - transactions: every call to the payment gateway (charge, refund, lookup), written as `requested`
 *    before the call and settled after it, so a call whose answer we never recorded is still visible.
 *  - booking_snapshots: filled from booking.* events (seed §3.4). A cancelled/expired/confirmed event
 *    that arrives before booking.created leaves a tombstone (no price) that booking.created fills in
 *    without reviving it.
 *  - idempotency_keys: Stripe-style keys per user with recovery points (Brandur Leach's design).
 *  - outbox, inbox: the event backbone's tables.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE payments (
      id UUID PRIMARY KEY,
      booking_id UUID NOT NULL,
      user_id UUID NOT NULL,
      amount NUMERIC(12,2) NOT NULL CHECK (amount >= 0),
      currency CHAR(3) NOT NULL,
      status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'completed', 'failed', 'refunded')),
      payment_method TEXT,
      transaction_id TEXT,
      idempotency_key TEXT UNIQUE,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX payments_booking_idx ON payments (booking_id);
    CREATE INDEX payments_user_created_idx ON payments (user_id, created_at DESC);
    CREATE UNIQUE INDEX payments_booking_active_key ON payments (booking_id) WHERE status IN ('pending', 'completed');

    CREATE TABLE transactions (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      payment_id UUID NOT NULL,
      type TEXT NOT NULL CHECK (type IN ('charge', 'refund', 'lookup')),
      amount NUMERIC(12,2) NOT NULL,
      currency CHAR(3) NOT NULL,
      status TEXT NOT NULL DEFAULT 'requested'
        CHECK (status IN ('requested', 'succeeded', 'declined', 'not_found', 'timeout', 'error')),
      gateway TEXT NOT NULL,
      gateway_idempotency_key TEXT NOT NULL,
      gateway_reference TEXT,
      request JSONB NOT NULL,
      error TEXT,
      replayed BOOLEAN,
      latency_ms INTEGER,
      created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
      completed_at TIMESTAMPTZ
    );
    CREATE INDEX transactions_payment_idx ON transactions (payment_id, created_at);

    CREATE TABLE booking_snapshots (
      booking_id UUID PRIMARY KEY,
      user_id UUID NOT NULL,
      user_email TEXT,
      showtime_id UUID,
      showtime_snapshot JSONB NOT NULL DEFAULT '{}',
      seats JSONB NOT NULL DEFAULT '[]',
      total_price NUMERIC(12,2) CHECK (total_price >= 0),
      currency CHAR(3),
      status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'cancelled', 'expired')),
      expires_at TIMESTAMPTZ,
      event_id UUID,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      CHECK ((event_id IS NULL) = (total_price IS NULL) AND (total_price IS NULL) = (currency IS NULL))
    );

    CREATE TABLE idempotency_keys (
      id UUID PRIMARY KEY,
      user_id UUID NOT NULL,
      idempotency_key TEXT NOT NULL CHECK (char_length(idempotency_key) BETWEEN 1 AND 255),
      request_method TEXT NOT NULL,
      request_path TEXT NOT NULL,
      request_params JSONB NOT NULL,
      request_fingerprint TEXT NOT NULL,
      recovery_point TEXT NOT NULL DEFAULT 'started' CHECK (recovery_point IN ('started', 'payment_created', 'finished')),
      payment_id UUID,
      locked_at TIMESTAMPTZ,
      last_run_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      response_code INTEGER,
      response_body JSONB,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (user_id, idempotency_key),
      CHECK (recovery_point <> 'finished' OR (response_code IS NOT NULL AND response_body IS NOT NULL))
    );
    CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
    CREATE INDEX idempotency_keys_payment_idx ON idempotency_keys (payment_id) WHERE payment_id IS NOT NULL;
  `);
  await createOutboxTableV1(knex);
  await createOutboxNotifyTriggerV1(knex);
  await createInboxTableV1(knex);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER IF EXISTS outbox_notify ON outbox;
    DROP FUNCTION IF EXISTS outbox_notify();
    DROP TABLE IF EXISTS inbox, outbox, idempotency_keys, booking_snapshots, transactions, payments;
  `);
}
