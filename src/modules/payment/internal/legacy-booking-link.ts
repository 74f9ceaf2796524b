import type { Db } from '../../../platform/db.ts';
import { normalizeMoney } from '../../../platform/money.ts';
import type { PayableBooking } from './booking-source.ts';

interface LegacyBookingRow {
  id: string;
  user_id: string;
  status: string | null;
  total_price: string;
  currency: string | null;
  expires_at: Date | null;
}

/**
 * The old coupling between payment and booking, in one place: the old payment service read the booking
 * module's shared `bookings` table to learn what to charge, and set the row to confirmed itself after a
 * successful charge. Nothing else in payment touches booking's data.
 *
 * Why it still exists: it is the behaviour of the first phases of the cutover —
 *  - `read` serves while `use_booking_snapshot` is off (and, with `verify_booking_snapshot`, is what the
 *    snapshot is checked against);
 *  - `confirm` runs while `use_payment_events` is off (with it on, payment.completed moves the booking).
 * It only ever touches the LEGACY table. While booking dual-writes, the database's capture triggers copy
 * such a write to the booking schema in the same transaction, so booking's own side stays equal.
 *
 * When it disappears: once both flags are on for everyone. The cutover plan refuses to take booking to
 * NEW_ONLY (no more writes to the legacy table) while either flag is off; after that this file, and the
 * payment role's grants on the shared bookings table, can be deleted.
 */
export class LegacyBookingLink {
  private readonly legacySchema: string;
  private readonly defaultCurrency: string;

  /** `defaultCurrency`: what the old system's bookings (currency NULL) were priced in */
  constructor(legacySchema: string, defaultCurrency: string) {
    this.legacySchema = legacySchema;
    this.defaultCurrency = defaultCurrency;
  }

  private bookings(db: Db) {
    return db.withSchema(this.legacySchema).table('bookings');
  }

  /** The old payment service's read of the shared bookings row. */
  async read(db: Db, bookingId: string): Promise<PayableBooking | undefined> {
    const row = (await this.bookings(db)
      .where({ id: bookingId })
      .first('id', 'user_id', 'status', 'total_price', 'currency', 'expires_at')) as LegacyBookingRow | undefined;
    if (!row) return undefined;
    return {
      bookingId: row.id,
      userId: row.user_id,
      status: row.status ?? 'pending',
      totalPrice: normalizeMoney(row.total_price),
      currency: row.currency?.trim() || this.defaultCurrency,
      expiresAt: row.expires_at,
      source: 'direct',
    };
  }

  /**
   * A successful payment confirms the shared bookings row (use_payment_events off). Done in the
   * payment's own transaction (the old service did it in a second one and could charge without
   * confirming). False when the row was no longer pending.
   */
  async confirm(db: Db, bookingId: string): Promise<boolean> {
    const updated = await this.bookings(db)
      .where({ id: bookingId })
      // NULL is what the old system left on a booking it had just created: pending, as `read` says
      .where((q) => q.where('status', 'pending').orWhereNull('status'))
      .update({ status: 'confirmed', updated_at: new Date() })
      .returning('id');
    return updated.length > 0;
  }
}
