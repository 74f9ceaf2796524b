import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../../../platform/db.ts';
import type { FlagContext, Flags } from '../../../platform/flags.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { Metrics } from '../../../platform/metrics.ts';
import type { BookingFacade } from '../../booking/index.ts';
import { BookingNotFoundError, BookingNotPayableError } from './errors.ts';
import type { LegacyBookingLink } from './legacy-booking-link.ts';
import type { SnapshotStore } from './snapshot-store.ts';

/** What a payment needs of a booking, wherever it was read from. */
export interface PayableBooking {
  bookingId: string;
  userId: string;
  status: string;
  totalPrice: string;
  currency: string;
  expiresAt: Date | null;
  /** the shared bookings table, payment's snapshot, or the booking module itself (its facade) */
  source: 'direct' | 'snapshot' | 'booking';
}

/** What payment asks of the booking module (in this process or over HTTP). */
export type BookingLookup = Pick<BookingFacade, 'getBookingForPayment'>;

export interface BookingSourceOptions {
  /** the old coupling: the shared bookings table */
  link: LegacyBookingLink;
  snapshots: SnapshotStore;
  /** a tombstone snapshot has no currency: this one (DEFAULT_CURRENCY) */
  defaultCurrency: string;
  /** booking's facade (in-process or remote); absent when this process can reach no booking */
  booking?: BookingLookup | undefined;
  /** how long a missing snapshot is waited for before booking is asked (PAYMENT_SNAPSHOT_WAIT_MS) */
  snapshotWaitMs: number;
  /** how often the snapshot is looked for meanwhile */
  snapshotPollMs?: number;
  flags: Flags;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Where the amount of a payment comes from, switched by flags:
 *  - default: the old coupling — the shared `bookings` table (legacy-booking-link.ts);
 *  - use_booking_snapshot: payments.booking_snapshots (filled by consume_booking_events). booking.created
 *    travels through the outbox and the broker, so a payment sent right after POST /bookings can arrive
 *    first: a missing snapshot is waited for briefly, then the booking module is asked through its
 *    facade (in this process, or over HTTP when booking runs apart) — paying at once never sees a 404 for a booking that exists;
 *  - verify_booking_snapshot: read both, log and count every mismatch, and use the direct read
 *    whenever they differ (or the snapshot is missing) — the snapshot only when the shared table no
 *    longer has the booking.
 * Never the client's word: the body carries no amount. Call it outside a transaction: it may wait.
 */
export class BookingSource {
  private readonly o: BookingSourceOptions;
  private readonly checks;
  private readonly waits;

  constructor(options: BookingSourceOptions) {
    this.o = options;
    this.checks = options.metrics.counter(
      'payment_booking_snapshot_checks_total',
      'verify_booking_snapshot: booking snapshot compared with the shared bookings table',
      ['result'],
    );
    this.waits = options.metrics.counter(
      'payment_booking_snapshot_waits_total',
      'Payments that found no booking snapshot yet: it arrived while waiting, booking was asked, or it stayed missing',
      ['result'],
    );
  }

  /** The booking, read per the flags; undefined when it does not exist (for this path). */
  async read(db: Db, bookingId: string, context: FlagContext): Promise<PayableBooking | undefined> {
    const useSnapshot = this.o.flags.isEnabled('use_booking_snapshot', context);
    const verify = this.o.flags.isEnabled('verify_booking_snapshot', context);
    if (!verify) return useSnapshot ? this.fromSnapshot(db, bookingId) : this.o.link.read(db, bookingId);

    // the snapshot is waited for here too: one still in flight is not a mismatch
    const [direct, snapshot] = await Promise.all([this.o.link.read(db, bookingId), this.awaitSnapshot(db, bookingId)]);
    const differences = compare(direct, snapshot);
    if (differences.length === 0) {
      this.checks.inc({ result: 'match' });
      // neither has it (yet): with the snapshot path on, booking itself is asked, as without verify
      if (!direct && useSnapshot) return this.askBooking(bookingId);
      return useSnapshot ? snapshot : direct;
    }
    const result = !snapshot ? 'snapshot_missing' : direct ? 'mismatch' : 'direct_missing';
    this.checks.inc({ result });
    this.o.logger.error(
      {
        booking_id: bookingId,
        result,
        fields: differences,
        snapshot_price: snapshot?.totalPrice ?? null,
        direct_price: direct?.totalPrice ?? null,
        snapshot_status: snapshot?.status ?? null,
        direct_status: direct?.status ?? null,
      },
      direct ? 'booking snapshot mismatch; using the shared bookings table' : 'booking missing from the shared bookings table; using the snapshot',
    );
    // the shared table wins, unless it no longer has the booking (booking writes only its own schema)
    return direct ?? snapshot;
  }

  /** read, then refuse what cannot be paid: not the caller's (404, as if absent) or not pending (409) */
  async payable(db: Db, bookingId: string, userId: string, now = new Date()): Promise<PayableBooking> {
    const booking = await this.read(db, bookingId, { userId });
    if (!booking || booking.userId !== userId) throw new BookingNotFoundError();
    if (booking.status !== 'pending') throw new BookingNotPayableError(booking.status);
    if (booking.expiresAt && booking.expiresAt.getTime() <= now.getTime()) throw new BookingNotPayableError('expired');
    return booking;
  }

  async readSnapshot(db: Db, bookingId: string): Promise<PayableBooking | undefined> {
    const s = await this.o.snapshots.find(db, bookingId);
    if (!s) return undefined;
    return {
      bookingId: s.bookingId,
      userId: s.userId,
      status: s.status,
      // a tombstone (status event before booking.created) has no price; its status is never pending
      totalPrice: s.totalPrice ?? '0.00',
      currency: s.currency ?? this.o.defaultCurrency,
      expiresAt: s.expiresAt,
      source: 'snapshot',
    };
  }

  /** The snapshot; when it has not arrived within the wait, the booking module's own answer. */
  private async fromSnapshot(db: Db, bookingId: string): Promise<PayableBooking | undefined> {
    return (await this.awaitSnapshot(db, bookingId)) ?? this.askBooking(bookingId);
  }

  /** The booking module's answer (its facade), when this process can reach booking. */
  private async askBooking(bookingId: string): Promise<PayableBooking | undefined> {
    const booking = await this.o.booking?.getBookingForPayment(bookingId);
    this.waits.inc({ result: booking ? 'asked_booking' : 'missing' });
    if (!booking) return undefined;
    this.o.logger.info({ booking_id: bookingId, wait_ms: this.o.snapshotWaitMs }, 'booking snapshot not there yet; read the booking from the booking module');
    return { ...booking, source: 'booking' };
  }

  /** The snapshot, looked for again until PAYMENT_SNAPSHOT_WAIT_MS has passed (booking.created in flight). */
  private async awaitSnapshot(db: Db, bookingId: string): Promise<PayableBooking | undefined> {
    const first = await this.readSnapshot(db, bookingId);
    if (first) return first;
    const deadline = Date.now() + this.o.snapshotWaitMs;
    const poll = this.o.snapshotPollMs ?? 25;
    for (let left = deadline - Date.now(); left > 0; left = deadline - Date.now()) {
      await sleep(Math.min(poll, left));
      const found = await this.readSnapshot(db, bookingId);
      if (found) {
        this.waits.inc({ result: 'arrived' });
        return found;
      }
    }
    return undefined;
  }
}

function compare(direct: PayableBooking | undefined, snapshot: PayableBooking | undefined): string[] {
  if (!direct && !snapshot) return [];
  if (!direct || !snapshot) return ['exists'];
  const fields: string[] = [];
  if (direct.totalPrice !== snapshot.totalPrice) fields.push('total_price');
  if (direct.currency !== snapshot.currency) fields.push('currency');
  if (direct.userId !== snapshot.userId) fields.push('user_id');
  if (direct.status !== snapshot.status) fields.push('status');
  return fields;
}
