import { randomUUID } from 'node:crypto';
import test from 'ava';
import { createLegacyCatalogStore } from '../../../src/modules/movie/internal/legacy-catalog-store.ts';
import { createOwnCatalogStore } from '../../../src/modules/movie/internal/own-catalog-store.ts';
import { createSeatProjection } from '../../../src/modules/movie/internal/seat-projection.ts';
import { Databases } from '../../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { catalogStoreContract } from './movie-store.contract.ts';

let db: TestDatabase;
let databases: Databases;
test.before(async () => {
  db = await createTestDatabase();
  databases = new Databases({ DATABASE_URL: db.url, DB_POOL_MAX: 4, DB_ROLE_PREFIX: 'boxoffice_' });
});
test.after.always(async () => {
  await databases?.closeAll();
  await db?.drop();
});

/** legacy: a booking in the shared tables, as the old booking service wrote it (as the legacy role) */
async function legacyTake(showtimeId: string, seatIds: string[], status: 'held' | 'sold'): Promise<string> {
  const legacy = databases.forRole('legacy', 'public');
  const userId = randomUUID();
  await legacy.table('users').insert({ id: userId, email: `${userId}@x.test`, hashed_password: 'x' });
  const id = randomUUID();
  await legacy.table('bookings').insert({ id, user_id: userId, showtime_id: showtimeId, status: status === 'held' ? 'pending' : 'confirmed', total_price: 1 });
  await legacy.table('booking_seats').insert(seatIds.map((seat_id) => ({ booking_id: id, seat_id, showtime_id: showtimeId })));
  await legacy.table('showtimes').where({ id: showtimeId }).decrement('available_seats', seatIds.length);
  return id;
}

/** own: what the booking.created / booking.confirmed events do to seat_availability */
async function ownTake(showtimeId: string, seatIds: string[], status: 'held' | 'sold'): Promise<string> {
  const projection = createSeatProjection();
  const id = randomUUID();
  await projection.reserve(databases.forModule('movie'), id, showtimeId, seatIds, new Date(Date.now() + 600_000));
  if (status === 'sold') await projection.confirm(databases.forModule('movie'), id);
  return id;
}

// both run as the movie module's role, as in production
catalogStoreContract(test, 'legacy store (shared tables)', () => ({ store: createLegacyCatalogStore('public', 'VND'), db: databases.forModule('movie'), takeSeats: legacyTake }));
catalogStoreContract(test, 'own store (movies schema)', () => ({ store: createOwnCatalogStore(), db: databases.forModule('movie'), takeSeats: ownTake }));
