import type { Knex } from 'knex';
import { createInboxTableV1, createOutboxNotifyTriggerV1, createOutboxTableV1 } from '../../src/platform/events/outbox-ddl.ts';

/**
 * The notification module's own schema (seed 002 §4.5, §8.2; ADR 0040).
 *
 *  - notifications: what a user was (or will be) told; id is derived from (event, template, subject), so
 *    a replayed event cannot create a second one. status: parked (no email known yet) → pending → sent |
 *    failed, or skipped (opted out / no address in time).
 *  - delivery_log: one row per delivery attempt. At most one attempt of a notification is in flight
 *    (`sending`) and at most one is `sent`: the database refuses a second send record.
 *  - templates: one per (event type, channel), defaults below; `{{variable}}` placeholders.
 *  - user_preferences: email, name, opt-outs, from user.created / user.updated (booking.created's
 *    user_email only fills a gap); never read from the auth schema.
 *  - booking_snapshots: what booking.created said, so later booking/payment events (which carry ids
 *    only) can name the movie, seats and user.
 *
 * delivery_log, user_preferences and booking_snapshots hold ids without foreign keys: the notification may
 * live in the legacy table (STORE_NOTIFICATION=legacy), the user in another module.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE notifications (
      id UUID PRIMARY KEY,
      user_id UUID NOT NULL,
      type TEXT NOT NULL,
      channel TEXT NOT NULL DEFAULT 'email',
      recipient TEXT,
      subject TEXT NOT NULL,
      message TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('parked', 'pending', 'sent', 'failed', 'skipped')),
      status_reason TEXT,
      event_id UUID,
      event_type TEXT,
      sent_at TIMESTAMPTZ,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX notifications_user_created_idx ON notifications (user_id, created_at DESC, id DESC);
    CREATE INDEX notifications_open_idx ON notifications (status, updated_at) WHERE status IN ('parked', 'pending');

    CREATE TABLE delivery_log (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      notification_id UUID NOT NULL,
      attempt INTEGER NOT NULL CHECK (attempt >= 1),
      channel TEXT NOT NULL,
      recipient TEXT,
      outcome TEXT NOT NULL CHECK (outcome IN ('sending', 'sent', 'retry', 'failed', 'interrupted')),
      error TEXT,
      response_code INTEGER,
      response TEXT,
      message_id TEXT,
      job_id TEXT,
      started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      finished_at TIMESTAMPTZ,
      UNIQUE (notification_id, attempt)
    );
    CREATE UNIQUE INDEX delivery_log_one_in_flight ON delivery_log (notification_id) WHERE outcome = 'sending';
    CREATE UNIQUE INDEX delivery_log_sent_once ON delivery_log (notification_id) WHERE outcome = 'sent';

    CREATE TABLE templates (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      event_type TEXT NOT NULL,
      channel TEXT NOT NULL DEFAULT 'email',
      name TEXT NOT NULL,
      subject_template TEXT NOT NULL,
      body_template TEXT NOT NULL,
      enabled BOOLEAN NOT NULL DEFAULT true,
      version INTEGER NOT NULL DEFAULT 1,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      UNIQUE (event_type, channel)
    );

    CREATE TABLE user_preferences (
      user_id UUID PRIMARY KEY,
      email TEXT,
      full_name TEXT,
      phone TEXT,
      email_enabled BOOLEAN NOT NULL DEFAULT true,
      opt_outs TEXT[] NOT NULL DEFAULT '{}',
      source TEXT NOT NULL,
      source_event_at TIMESTAMPTZ NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );

    CREATE TABLE booking_snapshots (
      booking_id UUID PRIMARY KEY,
      user_id UUID NOT NULL,
      user_email TEXT,
      movie_title TEXT,
      theater_name TEXT,
      screen TEXT,
      start_time TIMESTAMPTZ,
      seats TEXT[] NOT NULL DEFAULT '{}',
      total_price TEXT,
      currency TEXT,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX booking_snapshots_user_idx ON booking_snapshots (user_id);
  `);
  await knex('templates').insert(DEFAULT_TEMPLATES.map(([event_type, name, subject_template, body_template]) => ({
    event_type, channel: 'email', name, subject_template, body_template,
  })));
  await createOutboxTableV1(knex);
  await createOutboxNotifyTriggerV1(knex);
  await createInboxTableV1(knex);
}

const SIGNATURE = '\n\n— Boxoffice';
const BOOKING_LINES = '{{movie_title}}\n{{venue}}\n{{start_time}}\nSeats: {{seats}}';

/** [event type, notification type, subject, body] — frozen here; later changes are new migrations. */
const DEFAULT_TEMPLATES: [string, string, string, string][] = [
  ['user.created', 'welcome', 'Welcome to Boxoffice, {{name}}',
    'Hi {{name}},\n\nyour Boxoffice account is ready. Pick a showtime and book your seats in a few taps.' + SIGNATURE],
  ['booking.created', 'booking_pending', 'Complete your payment: {{movie_title}}',
    `Hi {{name}},\n\nwe are holding {{seat_count}} seat(s) for you:\n\n${BOOKING_LINES}\nTotal: {{total}}\n\n` +
      'Please pay before {{expires_at}}; after that the seats are released.\nBooking reference: {{booking_ref}}' + SIGNATURE],
  ['booking.confirmed', 'booking_confirmed', 'Your tickets: {{movie_title}}',
    `Hi {{name}},\n\nyour booking is confirmed. Show this email at the entrance.\n\n${BOOKING_LINES}\n` +
      'Booking reference: {{booking_ref}}' + SIGNATURE],
  ['booking.cancelled', 'booking_cancelled', 'Booking cancelled: {{movie_title}}',
    `Hi {{name}},\n\nyour booking {{booking_ref}} has been cancelled ({{reason}}).\n\n${BOOKING_LINES}\n{{refund_note}}` + SIGNATURE],
  ['booking.expired', 'booking_expired', 'Booking expired: {{movie_title}}',
    `Hi {{name}},\n\nwe did not receive your payment in time, so booking {{booking_ref}} has expired and the seats were released.\n\n${BOOKING_LINES}` + SIGNATURE],
  ['payment.completed', 'payment_receipt', 'Receipt for your payment of {{amount}}',
    'Hi {{name}},\n\nwe received your payment.\n\nAmount: {{amount}}\nFor: {{movie_title}}, {{start_time}}\n' +
      'Booking reference: {{booking_ref}}\nPayment reference: {{payment_ref}}\nTransaction: {{transaction_id}}' + SIGNATURE],
  ['payment.failed', 'payment_failed', 'Your payment did not go through',
    'Hi {{name}},\n\nyour payment for booking {{booking_ref}} ({{movie_title}}) failed: {{reason}}.\n' +
      'The booking has not been confirmed.' + SIGNATURE],
  ['payment.refunded', 'payment_refunded', 'Refund of {{amount}} on its way',
    'Hi {{name}},\n\nwe refunded {{amount}} for booking {{booking_ref}} ({{movie_title}}).\n' +
      'Depending on your bank it may take a few days to show.\nPayment reference: {{payment_ref}}' + SIGNATURE],
  ['showtime.cancelled', 'showtime_cancelled', 'Showtime cancelled: {{movie_title}}',
    `Hi {{name}},\n\nwe are sorry: the showtime of your booking {{booking_ref}} has been cancelled ({{reason}}).\n\n${BOOKING_LINES}\n` +
      'Any payment will be refunded.' + SIGNATURE],
];

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TRIGGER IF EXISTS outbox_notify ON outbox;
    DROP FUNCTION IF EXISTS outbox_notify();
    DROP TABLE IF EXISTS inbox, outbox, booking_snapshots, user_preferences, templates, delivery_log, notifications;
  `);
}
