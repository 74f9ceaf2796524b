// GENERATED from feature-flags/flags.yaml by `npm run flags:gen` — do not edit by hand.
// test/architecture/flags-catalog.test.ts fails when this file and the YAML disagree.

export const FLAGS = {
  use_rs256_tokens: { owner: "auth", default: false, phase: "auth-decoupling" },
  use_local_jwt: { owner: "auth", default: false, phase: "auth-decoupling" },
  disable_verify_endpoint: { owner: "auth", default: false, phase: "auth-decoupling" },
  accept_legacy_hs256_tokens: { owner: "auth", default: true, phase: "auth-decoupling" },
  publish_user_events: { owner: "auth", default: false, phase: "events" },
  publish_showtime_events: { owner: "movie", default: false, phase: "events" },
  publish_seat_events: { owner: "movie", default: false, phase: "events" },
  publish_booking_events: { owner: "booking", default: false, phase: "events" },
  publish_payment_events: { owner: "payment", default: false, phase: "events" },
  publish_notification_events: { owner: "notification", default: false, phase: "events" },
  consume_booking_events: { owner: "payment", default: false, phase: "events" },
  verify_booking_snapshot: { owner: "payment", default: false, phase: "events" },
  use_booking_snapshot: { owner: "payment", default: false, phase: "events" },
  use_payment_events: { owner: "payment", default: false, phase: "events" },
  dual_write_auth_db: { owner: "auth", default: false, phase: "database" },
  verify_auth_reads: { owner: "auth", default: false, phase: "database" },
  read_from_new_auth_db: { owner: "auth", default: false, phase: "database" },
  stop_legacy_writes_auth: { owner: "auth", default: false, phase: "database" },
  route_auth_to_service: { owner: "auth", default: false, phase: "extraction" },
  dual_write_movie_db: { owner: "movie", default: false, phase: "database" },
  verify_movie_reads: { owner: "movie", default: false, phase: "database" },
  read_from_new_movie_db: { owner: "movie", default: false, phase: "database" },
  stop_legacy_writes_movie: { owner: "movie", default: false, phase: "database" },
  route_movie_to_service: { owner: "movie", default: false, phase: "extraction" },
  dual_write_booking_db: { owner: "booking", default: false, phase: "database" },
  verify_booking_reads: { owner: "booking", default: false, phase: "database" },
  read_from_new_booking_db: { owner: "booking", default: false, phase: "database" },
  stop_legacy_writes_booking: { owner: "booking", default: false, phase: "database" },
  route_booking_to_service: { owner: "booking", default: false, phase: "extraction" },
  dual_write_payment_db: { owner: "payment", default: false, phase: "database" },
  verify_payment_reads: { owner: "payment", default: false, phase: "database" },
  read_from_new_payment_db: { owner: "payment", default: false, phase: "database" },
  stop_legacy_writes_payment: { owner: "payment", default: false, phase: "database" },
  route_payment_to_service: { owner: "payment", default: false, phase: "extraction" },
  dual_write_notification_db: { owner: "notification", default: false, phase: "database" },
  verify_notification_reads: { owner: "notification", default: false, phase: "database" },
  read_from_new_notification_db: { owner: "notification", default: false, phase: "database" },
  stop_legacy_writes_notification: { owner: "notification", default: false, phase: "database" },
  route_notification_to_service: { owner: "notification", default: false, phase: "extraction" },
  use_per_seat_locks: { owner: "booking", default: false, phase: "operations" },
  enable_tracing: { owner: "platform", default: false, phase: "observability" },
} as const;

export type FlagName = keyof typeof FLAGS;

export const FLAG_NAMES = Object.keys(FLAGS) as FlagName[];

export function isFlagName(name: string): name is FlagName {
  return Object.hasOwn(FLAGS, name);
}
