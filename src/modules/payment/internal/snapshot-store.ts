import type { z } from 'zod';
import type { Db } from '../../../platform/db.ts';
import { normalizeMoney } from '../../../platform/money.ts';
import type { bookingCreatedView } from './events.ts';

export type SnapshotStatus = 'pending' | 'confirmed' | 'cancelled' | 'expired';

export interface BookingSnapshot {
  bookingId: string;
  userId: string;
  /** null for a tombstone: a later event arrived before booking.created */
  totalPrice: string | null;
  currency: string | null;
  status: SnapshotStatus;
  expiresAt: Date | null;
  eventId: string | null;
}

interface Row {
  booking_id: string;
  user_id: string;
  total_price: string | null;
  currency: string | null;
  status: SnapshotStatus;
  expires_at: Date | null;
  event_id: string | null;
}

/** the statuses each event may move a snapshot from */
const ALLOWED_FROM: Record<Exclude<SnapshotStatus, 'pending'>, SnapshotStatus[]> = {
  confirmed: ['pending'],
  cancelled: ['pending', 'confirmed'],
  expired: ['pending'],
};

/**
 * payments.booking_snapshots — what payment knows of bookings from booking.* events (seed §3.4), so it
 * can stop reading the booking module's table. Writes are idempotent on their own (the inbox already
 * makes each event apply once): booking.created inserts once; status events only move forward; an
 * event that overtakes booking.created leaves a tombstone that booking.created fills in but never revives.
 */
export class SnapshotStore {
  private readonly schema: string;

  constructor(schema: string) {
    this.schema = schema;
  }

  private table(db: Db) {
    return db.withSchema(this.schema).table('booking_snapshots');
  }

  /** true when the snapshot was written (first booking.created for the booking) */
  async recordCreated(db: Db, eventId: string, p: z.infer<typeof bookingCreatedView>, defaultCurrency: string): Promise<boolean> {
    const row = {
      booking_id: p.booking_id,
      user_id: p.user_id,
      user_email: p.user_email ?? null,
      showtime_id: p.showtime_id ?? null,
      showtime_snapshot: JSON.stringify(p.showtime_snapshot),
      seats: JSON.stringify(p.seats),
      total_price: p.total_price,
      currency: p.currency ?? (typeof p.showtime_snapshot['currency'] === 'string' ? p.showtime_snapshot['currency'] : defaultCurrency),
      expires_at: p.expires_at ? new Date(p.expires_at) : null,
      event_id: eventId,
    };
    const written = await this.table(db)
      .insert({ ...row, status: 'pending' })
      .onConflict('booking_id')
      .merge(['user_email', 'showtime_id', 'showtime_snapshot', 'seats', 'total_price', 'currency', 'expires_at', 'event_id', 'updated_at'])
      .where('booking_snapshots.event_id', null)
      .returning('booking_id');
    return written.length > 0;
  }

  /** move the snapshot's status forward; a missing snapshot becomes a tombstone with that status */
  async recordStatus(db: Db, bookingId: string, userId: string, status: Exclude<SnapshotStatus, 'pending'>): Promise<void> {
    const updated = await this.table(db)
      .where({ booking_id: bookingId })
      .whereIn('status', ALLOWED_FROM[status])
      .update({ status, updated_at: new Date() })
      .returning('booking_id');
    if (updated.length > 0) return;
    await this.table(db).insert({ booking_id: bookingId, user_id: userId, status }).onConflict('booking_id').ignore();
  }

  async find(db: Db, bookingId: string): Promise<BookingSnapshot | undefined> {
    const r = (await this.table(db).where({ booking_id: bookingId }).first()) as Row | undefined;
    if (!r) return undefined;
    return {
      bookingId: r.booking_id,
      userId: r.user_id,
      totalPrice: r.total_price === null ? null : normalizeMoney(r.total_price),
      currency: r.currency,
      status: r.status,
      expiresAt: r.expires_at,
      eventId: r.event_id,
    };
  }
}
