import type { Knex } from 'knex';
import type { MigrationContext } from '../../src/platform/migrate.ts';

/**
 * The old system's single shared schema, as its init.sql had it (seed 002 §2, §4.1–4.5): UUID keys,
 * `timestamp without time zone`, and foreign keys across what are now module boundaries. Runs as the
 * legacy role, which owns these tables.
 */
export async function up(knex: Knex, ctx: MigrationContext): Promise<void> {
  await knex.raw(`
    CREATE TABLE users (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      email VARCHAR(255) UNIQUE NOT NULL,
      full_name VARCHAR(255),
      hashed_password VARCHAR(255) NOT NULL,
      role VARCHAR(50) DEFAULT 'user',
      is_active BOOLEAN DEFAULT true,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE movies (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      title VARCHAR(255) NOT NULL,
      description TEXT,
      duration_minutes INTEGER NOT NULL,
      genre VARCHAR(100),
      rating VARCHAR(10),
      release_date DATE,
      poster_url VARCHAR(500),
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE theaters (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      name VARCHAR(255) NOT NULL,
      location VARCHAR(255),
      total_seats INTEGER NOT NULL DEFAULT 0,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE seats (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      theater_id UUID NOT NULL REFERENCES theaters(id) ON DELETE CASCADE,
      row_label VARCHAR(5) NOT NULL,
      seat_number INTEGER NOT NULL,
      seat_type VARCHAR(20) DEFAULT 'standard',
      UNIQUE (theater_id, row_label, seat_number)
    );
    CREATE TABLE showtimes (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      movie_id UUID NOT NULL REFERENCES movies(id) ON DELETE CASCADE,
      theater_id UUID NOT NULL REFERENCES theaters(id) ON DELETE CASCADE,
      start_time TIMESTAMP NOT NULL,
      end_time TIMESTAMP NOT NULL,
      price DECIMAL(10,2) NOT NULL,
      available_seats INTEGER NOT NULL,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE bookings (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id UUID NOT NULL REFERENCES users(id),
      showtime_id UUID NOT NULL REFERENCES showtimes(id),
      status VARCHAR(50) DEFAULT 'pending',
      total_price DECIMAL(10,2) NOT NULL,
      expires_at TIMESTAMP,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE booking_seats (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      booking_id UUID NOT NULL REFERENCES bookings(id) ON DELETE CASCADE,
      seat_id UUID NOT NULL REFERENCES seats(id),
      showtime_id UUID NOT NULL REFERENCES showtimes(id),
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE payments (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      booking_id UUID NOT NULL REFERENCES bookings(id),
      user_id UUID NOT NULL REFERENCES users(id),
      amount DECIMAL(10,2) NOT NULL,
      status VARCHAR(50) DEFAULT 'pending',
      payment_method VARCHAR(50),
      transaction_id VARCHAR(255),
      idempotency_key VARCHAR(255) UNIQUE,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
      updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE TABLE notifications (
      id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id UUID NOT NULL REFERENCES users(id),
      type VARCHAR(100) NOT NULL,
      subject VARCHAR(500),
      message TEXT NOT NULL,
      status VARCHAR(50) DEFAULT 'pending',
      sent_at TIMESTAMP,
      created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
    );
    CREATE INDEX idx_seats_theater ON seats(theater_id);
    CREATE INDEX idx_showtimes_movie ON showtimes(movie_id);
    CREATE INDEX idx_showtimes_theater_start ON showtimes(theater_id, start_time);
    CREATE INDEX idx_bookings_user ON bookings(user_id);
    CREATE INDEX idx_bookings_showtime ON bookings(showtime_id);
    CREATE INDEX idx_booking_seats_booking ON booking_seats(booking_id);
    CREATE INDEX idx_booking_seats_showtime_seat ON booking_seats(showtime_id, seat_id);
    CREATE INDEX idx_payments_booking ON payments(booking_id);
    CREATE INDEX idx_notifications_user ON notifications(user_id);
  `);

  // Each module's role gets what its service used in the old system — including the couplings the
  // migration removes (booking reads the catalog, payment reads and updates bookings, notification
  // reads users). Writing legacy and own tables in one transaction (DUAL_WRITE) needs both on one role.
  const s = ctx.legacySchema;
  const q = (t: string) => `"${s}".${t}`;
  const grants: [string, string, string[]][] = [
    ['auth', 'SELECT, INSERT, UPDATE, DELETE', ['users']],
    ['movies', 'SELECT, INSERT, UPDATE, DELETE', ['movies', 'theaters', 'seats', 'showtimes']],
    ['bookings', 'SELECT, INSERT, UPDATE, DELETE', ['bookings', 'booking_seats']],
    ['bookings', 'SELECT, UPDATE', ['showtimes']],
    ['bookings', 'SELECT', ['movies', 'theaters', 'seats', 'users']],
    ['payments', 'SELECT, INSERT, UPDATE', ['payments']],
    ['payments', 'SELECT, UPDATE', ['bookings']],
    ['payments', 'SELECT', ['booking_seats', 'showtimes', 'users']],
    ['notifications', 'SELECT, INSERT, UPDATE', ['notifications']],
    ['notifications', 'SELECT', ['users']],
    ['migration', 'SELECT', ['users', 'movies', 'theaters', 'seats', 'showtimes', 'bookings', 'booking_seats', 'payments', 'notifications']],
  ];
  for (const r of ['auth', 'movies', 'bookings', 'payments', 'notifications', 'migration'] as const) {
    await knex.raw(`GRANT USAGE ON SCHEMA "${s}" TO "${ctx.role(r)}"`);
  }
  for (const [r, privileges, tables] of grants) {
    const role = ctx.role(r as Parameters<MigrationContext['role']>[0]);
    await knex.raw(`GRANT ${privileges} ON ${tables.map(q).join(', ')} TO "${role}"`);
  }
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'DROP TABLE IF EXISTS notifications, payments, booking_seats, bookings, showtimes, seats, theaters, movies, users CASCADE',
  );
}
