import type { Db, Knex } from '../../../platform/db.ts';
import type { Envelope } from '../../../platform/events/envelope.ts';
import type { StoreMethods } from '../../../platform/mapping/store-routing.ts';
import type { ShowtimeSnapshot } from '../../movie/index.ts';

export type BookingStatus = 'pending' | 'confirmed' | 'cancelled' | 'expired';
/** statuses whose seats are held (pending) or sold (confirmed) */
export const ACTIVE_STATUSES: BookingStatus[] = ['pending', 'confirmed'];

export interface BookedSeat {
  seatId: string;
  row: string;
  number: number;
  type: string;
  /** exact decimal string */
  price: string;
}

export interface BookingRecord {
  id: string;
  userId: string;
  userEmail: string;
  showtimeId: string;
  snapshot: ShowtimeSnapshot;
  status: BookingStatus;
  totalPrice: string;
  currency: string;
  expiresAt: Date | null;
  cancelReason: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** ordered by seat id */
  seats: BookedSeat[];
}

export type NewBooking = Omit<BookingRecord, 'status' | 'cancelReason' | 'updatedAt' | 'expiresAt'> & { expiresAt: Date };

/** What goes into the transaction of a new booking besides the booking itself. */
export interface PendingWrite {
  /** the caps on what one user holds unpaid (pending-caps.ts) */
  limits: { maxBookings: number; maxSeatsPerShowtime: number };
  /** the time a hold counts as run out against */
  now: Date;
  /** booking.created, for the bookings outbox */
  event: Envelope<Record<string, unknown>>;
  /** told when the transaction is run again after 40001/40P01 */
  onRetry?: (err: unknown, attempt: number) => void;
}

export interface Page {
  limit: number;
  offset: number;
}

/**
 * Where bookings live: the legacy shared tables or the booking schema. Both pass
 * test/modules/booking/booking-store.contract.ts, and both keep the invariant on their own — a seat of a
 * showtime is in at most one pending or confirmed booking — whatever lock the caller took in Redis.
 * Methods that need a transaction (they lock, or write several rows) take one; copying bookings between
 * the two sides (dual-write, backfill, repair) is the mapping's job (booking-mapping.ts), not the store's.
 */
export interface BookingStore {
  /**
   * Insert a pending booking with its seats, in the caller's transaction. Throws SeatsTakenError naming
   * the seats another active booking holds (nothing is written then).
   */
  insertPending(trx: Knex.Transaction, booking: NewBooking): Promise<BookingRecord>;
  /**
   * A new pending booking and everything that commits with it, or nothing: the user's pending caps checked
   * under their advisory lock (PendingLimitError), the booking and its seats (SeatsTakenError), the saga row
   * (awaiting_payment) and `write.event` in the bookings outbox. Given the pool, the store runs a
   * transaction of its own (run again on 40001/40P01); given a transaction, it writes in it.
   */
  createPending(db: Db, booking: NewBooking, write: PendingWrite): Promise<BookingRecord>;
  findById(db: Db, id: string): Promise<BookingRecord | undefined>;
  /** the booking, its row locked until the transaction ends */
  lockById(trx: Knex.Transaction, id: string): Promise<BookingRecord | undefined>;
  /** newest first */
  listByUser(db: Db, userId: string, page: Page): Promise<{ items: BookingRecord[]; total: number }>;
  /** pending → confirmed (the seats stay taken: now sold); false when the booking was not pending */
  confirm(trx: Knex.Transaction, id: string): Promise<boolean>;
  /** pending|confirmed → cancelled|expired, keeping the reason; the seats are free again when the transaction commits */
  finish(trx: Knex.Transaction, id: string, to: 'cancelled' | 'expired', reason: string): Promise<void>;
  /** ids of pending bookings with expires_at <= now, oldest first, locked (SKIP LOCKED: sweepers share the work) */
  claimExpired(trx: Knex.Transaction, now: Date, limit: number): Promise<string[]>;
  /** seat → booking for every seat of the showtime held or sold by an active booking */
  activeSeats(db: Db, showtimeId: string): Promise<{ seatId: string; bookingId: string }[]>;
  /** the user's pending bookings whose hold has not run out at `now`, and the seats they hold in the showtime */
  pendingOf(db: Db, userId: string, showtimeId: string, now: Date): Promise<{ bookings: number; seatsInShowtime: number }>;
}

/** How the routing store may route each method (src/platform/mapping/store-routing.ts). */
export const BOOKING_STORE_METHODS: StoreMethods<BookingStore> = {
  insertPending: 'write',
  createPending: 'write',
  findById: { read: 'bookings' },
  lockById: 'lock',
  listByUser: { read: 'bookings' },
  confirm: 'write',
  finish: 'write',
  claimExpired: 'lock',
  // seat → booking pairs, not booking records: compared as they are
  activeSeats: 'read',
  // counted inside the booking's transaction, under the user's lock, for the write that follows
  pendingOf: 'lock',
};
