import { MODULE_SCHEMAS } from '../../../platform/config.ts';
import { EPOCH_SQL, f, type FieldSpec, type ModuleMapping } from '../../../platform/mapping/aggregate-mapping.ts';

export interface MovieMappingOptions {
  /** where the old shared tables are (LEGACY_SCHEMA) */
  legacySchema: string;
  /** the currency the old system priced everything in (DEFAULT_CURRENCY): legacy showtimes without one show it */
  defaultCurrency: string;
  ownSchema?: string;
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`;
const quoted = (schema: string, table: string) => `"${schema.replace(/"/g, '""')}"."${table}"`;

/** a movie's fields but its timestamps, and a theater's seats: the same columns on both sides */
const MOVIE_FIELDS: FieldSpec[] = [
  f.uuid('id'),
  f.text('title'),
  f.text('description'),
  f.int('duration_minutes'),
  f.text('genre'),
  f.text('rating'),
  f.date('release_date'),
  f.text('poster_url'),
];
const seatChild = (fields: FieldSpec[]) => ({
  field: 'seats',
  table: 'seats',
  parentKey: 'theater_id',
  identity: ['id'],
  // COLLATE "C": the same order whatever the database's collation (a module database may differ)
  orderBy: 'length(c.row_label), c.row_label COLLATE "C", c.seat_number, c.id',
  fields: [f.uuid('id'), f.text('row_label'), f.int('seat_number'), ...fields],
});

/**
 * Where the movie module's data lives on each side (ADR 0050). Movies, theaters with their seats, and
 * showtimes move. seat_availability is the module's projection of booking events (ADR 0010): the old
 * system had none (it derived seat states from the shared bookings), so it stays own-only — but a
 * showtime copied into the own schema opens its seat_availability rows, seeded from the seats its legacy
 * bookings hold (the `taken_seats` field), or its own seat map would be empty.
 */
export function createMovieMapping(options: MovieMappingOptions): ModuleMapping {
  const ownSchema = options.ownSchema ?? MODULE_SCHEMAS.movie;
  const legacy = (table: string) => quoted(options.legacySchema, table);
  const own = (table: string) => quoted(ownSchema, table);
  const currency = `'${options.defaultCurrency.replace(/'/g, "''")}'`;
  const legacyTimestamps = [
    f.timestamp('created_at', { read: `COALESCE(t.created_at, ${EPOCH_SQL})` }),
    f.timestamp('updated_at', { read: `COALESCE(t.updated_at, t.created_at, ${EPOCH_SQL})` }),
  ];
  const ownTimestamps = [f.timestamptz('created_at'), f.timestamptz('updated_at')];
  // held or sold seats of the showtime `t`: legacy from its pending/confirmed bookings (as the legacy store reads them)
  const legacyTaken = `COALESCE((SELECT jsonb_agg(jsonb_build_object(
      'seat_id', bs.seat_id::text, 'status', CASE b.status WHEN 'confirmed' THEN 'sold' ELSE 'held' END, 'booking_id', b.id::text,
      'reserved_until', CASE WHEN b.status = 'pending' THEN to_char(b.expires_at, ${ISO}) END) ORDER BY bs.seat_id, b.id)
    FROM ${legacy('booking_seats')} bs JOIN ${legacy('bookings')} b ON b.id = bs.booking_id
    WHERE bs.showtime_id = t.id AND b.status IN ('pending', 'confirmed')), '[]'::jsonb)`;
  const ownTaken = `COALESCE((SELECT jsonb_agg(jsonb_build_object(
      'seat_id', sa.seat_id::text, 'status', sa.status, 'booking_id', sa.booking_id::text,
      'reserved_until', to_char(sa.reserved_until AT TIME ZONE 'UTC', ${ISO})) ORDER BY sa.seat_id, sa.booking_id)
    FROM ${own('seat_availability')} sa WHERE sa.showtime_id = t.id AND sa.status IN ('held', 'sold')), '[]'::jsonb)`;

  return {
    module: 'movie',
    ownSchema,
    aggregates: [
      {
        module: 'movie',
        name: 'movies',
        description: 'a film: title, description, running time, genre, rating, release date, poster',
        legacy: { table: 'movies', fields: [...MOVIE_FIELDS, ...legacyTimestamps] },
        own: { table: 'movies', fields: [...MOVIE_FIELDS, ...ownTimestamps] },
      },
      {
        module: 'movie',
        name: 'theaters',
        description: 'a screen: name, city, seat count, and its seats (row, number, type)',
        legacy: {
          table: 'theaters',
          fields: [f.uuid('id'), f.text('name'), f.text('city', { column: 'location' }), f.int('total_seats'), ...legacyTimestamps],
          children: [seatChild([f.text('seat_type', { read: `COALESCE(c.seat_type, 'standard')` })])],
        },
        own: {
          table: 'theaters',
          fields: [f.uuid('id'), f.text('name'), f.text('city'), f.int('total_seats'), ...ownTimestamps],
          children: [seatChild([f.text('seat_type')])],
        },
      },
      {
        module: 'movie',
        name: 'showtimes',
        description: 'a screening of a movie in a theater: times, prices, currency, status',
        legacy: {
          table: 'showtimes',
          fields: [
            f.uuid('id'),
            f.uuid('movie_id'),
            f.uuid('theater_id'),
            f.timestamp('start_time'),
            f.timestamp('end_time'),
            f.money('base_price', { column: 'price' }),
            // the old system priced every showtime in the one currency, every seat at the showtime price
            f.char('currency', { read: `COALESCE(t.currency, ${currency})` }),
            f.jsonb('tier_prices', { read: `COALESCE(t.tier_prices, '{}'::jsonb)` }),
            f.text('status', { column: null, read: `CASE WHEN t.cancelled_at IS NULL THEN 'scheduled' ELSE 'cancelled' END` }),
            f.text('cancel_reason'),
            // the seats of its theater, as the legacy store reads it
            f.int('total_seats', { column: null, read: `(SELECT th.total_seats FROM ${legacy('theaters')} th WHERE th.id = t.theater_id)` }),
            ...legacyTimestamps,
            f.jsonb('taken_seats', { column: null, read: legacyTaken }),
          ],
          extraColumns: [
            {
              // cancelled when the document says so, at its last change; a cancellation time already there stays
              column: 'cancelled_at',
              write: `CASE WHEN d->>'status' = 'cancelled' THEN ((d->>'updated_at')::timestamptz AT TIME ZONE 'UTC') END`,
              onUpdate: 'CASE WHEN EXCLUDED.cancelled_at IS NULL THEN NULL ELSE COALESCE(t.cancelled_at, EXCLUDED.cancelled_at) END',
            },
            {
              // the old free-seat counter, kept by booking's legacy store from then on: the theater's seats
              // less those its active legacy bookings hold
              column: 'available_seats',
              write: `((SELECT count(*) FROM ${legacy('seats')} se WHERE se.theater_id = (d->>'theater_id')::uuid)
                - (SELECT count(*) FROM ${legacy('booking_seats')} bs JOIN ${legacy('bookings')} b ON b.id = bs.booking_id
                   WHERE bs.showtime_id = (d->>'id')::uuid AND b.status IN ('pending', 'confirmed')))::integer`,
              onUpdate: 'keep',
            },
          ],
          // a booking moving the counter does not change the showtime
          ignoredColumns: ['available_seats'],
        },
        own: {
          table: 'showtimes',
          fields: [
            f.uuid('id'),
            f.uuid('movie_id'),
            f.uuid('theater_id'),
            f.timestamptz('start_time'),
            f.timestamptz('end_time'),
            f.money('base_price'),
            f.char('currency'),
            f.jsonb('tier_prices'),
            f.text('status'),
            f.text('cancel_reason'),
            f.int('total_seats'),
            ...ownTimestamps,
            f.jsonb('taken_seats', { column: null, read: ownTaken }),
          ],
          afterWrite: [
            // open the showtime's seat map: every seat of its theater, the taken ones as the other side has
            // them; rows already there belong to the projection and are left alone
            `INSERT INTO ${own('seat_availability')} (showtime_id, seat_id, status, booking_id, reserved_until)
             SELECT st.id, se.id, COALESCE(tk.status, 'available'), tk.booking_id, tk.reserved_until
               -- OFFSET 0 keeps the keys apart from their documents, so the sort below does not carry them
               FROM (SELECT (d->>'id')::uuid AS id, (d->>'theater_id')::uuid AS theater_id FROM docs OFFSET 0) st
               JOIN ${own('seats')} se ON se.theater_id = st.theater_id
               LEFT JOIN (
                 -- one state per seat (a sold one wins, should the other side have two bookings on it)
                 SELECT DISTINCT ON (1, 2) (docs.d->>'id')::uuid AS showtime_id, r.seat_id, r.status, r.booking_id, r.reserved_until
                   FROM docs, jsonb_to_recordset(COALESCE(docs.d->'taken_seats', '[]'::jsonb))
                        AS r(seat_id uuid, status text, booking_id uuid, reserved_until timestamptz)
                  ORDER BY 1, 2, r.status = 'sold' DESC, r.booking_id
               ) tk ON tk.showtime_id = st.id AND tk.seat_id = se.id
              ORDER BY 1, 2
             ON CONFLICT (showtime_id, seat_id) DO NOTHING`,
          ],
        },
        notCompared: {
          taken_seats:
            'a projection on each side, kept by different writers at different moments: legacy from the shared booking tables ' +
            '(booking module), own from seat_availability (booking events, ADR 0010); carried only to seed a copied showtime',
        },
        references: [
          { field: 'movie_id', aggregate: 'movies' },
          { field: 'theater_id', aggregate: 'theaters' },
        ],
      },
    ],
    ownOnly: [
      { table: 'seat_availability', why: 'projection of booking events (ADR 0010); the old system derived seat states from its bookings. Opened for a copied showtime from taken_seats' },
      { table: 'outbox', why: 'movie events, new with the event backbone; the old system published none' },
      { table: 'inbox', why: 'booking events movie has applied, new with the event backbone' },
    ],
  };
}
