import { f, type ModuleMapping } from '../../../platform/mapping/aggregate-mapping.ts';
import { legacyBookingSql } from './legacy-booking-sql.ts';
import { ACTIVE_STATUSES } from './types.ts';

export interface BookingMappingOptions {
  /** where the old shared tables are (LEGACY_SCHEMA) */
  legacySchema: string;
  /** DEFAULT_CURRENCY: what an old booking without a currency is read in */
  currency: string;
  ownSchema?: string;
}

const ACTIVE = `(${ACTIVE_STATUSES.map((s) => `'${s}'`).join(', ')})`;

/**
 * Where a booking lives on each side (ADR 0050): the booking with its seats, each side keeping the
 * showtime and seat snapshots taken at booking time. The legacy side fills what old rows lack with what
 * the legacy store shows for them (legacy-booking-sql.ts, shared with the store). Saga state, outbox and
 * inbox exist only in the booking schema.
 */
export function createBookingMapping(options: BookingMappingOptions): ModuleMapping {
  const { legacySchema, currency, ownSchema = 'bookings' } = options;
  const legacy = legacyBookingSql(legacySchema, currency);
  // each seat row carries its booking's showtime; the own side also marks whether the seat is taken
  const seatShowtime = { column: 'showtime_id', write: `(d->>'showtime_id')::uuid` };
  return {
    module: 'booking',
    ownSchema,
    aggregates: [
      {
        module: 'booking',
        name: 'bookings',
        description: 'a booking: who, which showtime (snapshot), status, total, its seats (snapshots and prices)',
        legacy: {
          table: 'bookings',
          fields: [
            f.uuid('id'),
            f.uuid('user_id'),
            f.text('user_email', { read: legacy.userEmail }),
            f.uuid('showtime_id'),
            f.jsonb('showtime_snapshot', { read: legacy.showtimeSnapshot }),
            f.text('status', { read: legacy.status }),
            f.money('total_price'),
            f.char('currency', { read: legacy.currency }),
            f.timestamp('expires_at'),
            f.text('cancel_reason'),
            f.timestamp('created_at', { read: legacy.createdAt }),
            f.timestamp('updated_at', { read: legacy.updatedAt }),
          ],
          children: [
            {
              field: 'seats',
              table: 'booking_seats',
              parentKey: 'booking_id',
              identity: ['seat_id'],
              orderBy: 'c.seat_id',
              fields: [
                f.uuid('seat_id'),
                f.jsonb('seat_snapshot', { read: legacy.seatSnapshot }),
                f.money('price', { read: legacy.seatPrice }),
                f.timestamp('created_at', { read: legacy.seatCreatedAt }),
              ],
              extraColumns: [seatShowtime],
              // id: a surrogate key each side draws itself (within its booking a seat row is its seat_id);
              // showtime_id: derived from the booking on write, so a change to it alone changes no document
              ignoredColumns: ['id', 'showtime_id'],
            },
          ],
          // Copies into the shared tables keep the old showtimes' counter for showtimes the shared tables have,
          // as the legacy store does (recounted; legacy-booking-sql.ts)
          afterWrite: legacy.recountAvailable(`SELECT DISTINCT (d->>'showtime_id')::uuid FROM docs`),
        },
        own: {
          table: 'bookings',
          fields: [
            f.uuid('id'),
            f.uuid('user_id'),
            f.text('user_email'),
            f.uuid('showtime_id'),
            f.jsonb('showtime_snapshot'),
            f.text('status'),
            f.money('total_price'),
            f.char('currency'),
            f.timestamptz('expires_at'),
            f.text('cancel_reason'),
            f.timestamptz('created_at'),
            f.timestamptz('updated_at'),
          ],
          children: [
            {
              field: 'seats',
              table: 'booking_seats',
              parentKey: 'booking_id',
              identity: ['seat_id'],
              orderBy: 'c.seat_id',
              fields: [f.uuid('seat_id'), f.jsonb('seat_snapshot'), f.money('price'), f.timestamptz('created_at')],
              extraColumns: [
                seatShowtime,
                // what the partial unique index (showtime_id, seat_id) WHERE active keeps to one booking
                { column: 'active', write: `(d->>'status') IN ${ACTIVE}` },
              ],
              // derived from the document on write (extraColumns): own finish clears `active` after it
              // has changed the status, and that second statement need not be copied again
              ignoredColumns: ['id', 'showtime_id', 'active'],
            },
          ],
        },
      },
    ],
    ownOnly: [
      { table: 'saga_state', why: 'where each booking\'s payment saga stands; new with the booking module (the old system had no saga)' },
      { table: 'outbox', why: 'booking.* events written with each state change; the old system published no events' },
      { table: 'inbox', why: 'ids of the payment.* events already applied (exactly-once effects); the old system consumed no events' },
    ],
  };
}
