import { isDatabaseUnavailable, type Knex } from '../../../platform/db.ts';
import { transactionWithRetry } from '../../../platform/db-retry.ts';
import { buildEnvelope } from '../../../platform/events/envelope.ts';
import { appendToOutbox } from '../../../platform/events/outbox.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { Worker } from '../../../platform/module.ts';
import { OUTBOX_SCHEMA, SOURCE } from './booking-service.ts';
import { bookingExpiredV1 } from './events.ts';
import type { SagaState } from './saga-state.ts';
import type { SeatHolds } from './seat-holds.ts';
import type { BookingRecord, BookingStore } from './types.ts';

export interface ExpiryDeps {
  db: Knex;
  store: BookingStore;
  saga: SagaState;
  holds: SeatHolds;
  logger: Logger;
}

/**
 * Expire one batch of pending bookings past expires_at: each becomes `expired`, its seats are free, and
 * booking.expired goes to the outbox — one transaction. Sweepers in several processes share the work
 * (claimed rows are locked, SKIP LOCKED). Redis holds are released after commit. Returns how many expired.
 */
export async function expireDue(deps: ExpiryDeps, now = new Date(), limit = 100): Promise<number> {
  const expired = await transactionWithRetry(deps.db, async (trx) => {
    const ids = await deps.store.claimExpired(trx, now, limit);
    const done: BookingRecord[] = [];
    for (const id of ids) {
      const b = await deps.store.findById(trx, id);
      if (!b) continue;
      await deps.store.finish(trx, id, 'expired', 'payment not received in time');
      await deps.saga.advance(trx, id, 'expired', 'compensated', { action: 'release_seats', reason: 'expired' });
      await appendToOutbox(trx, OUTBOX_SCHEMA, buildEnvelope(bookingExpiredV1, {
        booking_id: id, user_id: b.userId, showtime_id: b.showtimeId, seat_ids: b.seats.map((s) => s.seatId), expired_at: now.toISOString(),
      }, { source: SOURCE }));
      done.push(b);
    }
    return done;
  });
  for (const b of expired) await deps.holds.releaseSeats(b.showtimeId, b.seats.map((s) => s.seatId), b.id);
  if (expired.length > 0) deps.logger.info({ expired: expired.length }, 'expired pending bookings');
  return expired.length;
}

/**
 * The expiry sweeper (ADR 0011): polls Postgres, the source of truth, so it survives restarts, Redis
 * flushes and failovers — nothing about a pending booking's deadline lives anywhere but its row.
 */
export function createExpirySweeper(deps: ExpiryDeps, intervalMs: number): Worker {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = true;
  const tick = async () => {
    try {
      while (!stopped && (await expireDue(deps)) === 100);
    } catch (err) {
      // an outage is logged once by the pools (ADR 0076), not once a second here
      if (isDatabaseUnavailable(err)) deps.logger.debug({ err }, 'expiry sweep: database unavailable; will try again');
      else deps.logger.error({ err }, 'expiry sweep failed; will try again');
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(() => {
        running = undefined;
        schedule();
      });
    }, intervalMs);
  };
  return {
    name: 'booking-expiry-sweeper',
    async start() {
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
