import type { Db } from '../../../platform/db.ts';

export type SagaStep = 'awaiting_payment' | 'confirmed' | 'cancelled' | 'expired';
export type SagaStatus = 'running' | 'completed' | 'compensated' | 'failed';

export interface SagaRow {
  booking_id: string;
  current_step: SagaStep;
  status: SagaStatus;
  compensations: { action: string; at: string; reason?: string }[];
}

/**
 * bookings.saga_state: where each booking's saga stands (seed 002 §4.3, §8.4.4). Written in the same
 * transaction as the booking's state change, whichever booking store is in use.
 */
export function createSagaState(schema = 'bookings') {
  const table = (db: Db) => db.withSchema(schema).table('saga_state');
  return {
    async start(db: Db, bookingId: string): Promise<void> {
      await table(db).insert({ booking_id: bookingId, current_step: 'awaiting_payment', status: 'running' });
    },
    /** move to a step; a compensation (e.g. seats released) is appended to the record */
    async advance(db: Db, bookingId: string, step: SagaStep, status: SagaStatus, compensation?: { action: string; reason?: string }): Promise<void> {
      const entry = compensation ? JSON.stringify([{ ...compensation, at: new Date().toISOString() }]) : '[]';
      await db.raw(
        `INSERT INTO "${schema}".saga_state AS s (booking_id, current_step, status, compensations) VALUES (?, ?, ?, ?::jsonb)
         ON CONFLICT (booking_id) DO UPDATE SET current_step = EXCLUDED.current_step, status = EXCLUDED.status,
           compensations = s.compensations || EXCLUDED.compensations, updated_at = now()`,
        [bookingId, step, status, entry],
      );
    },
    async find(db: Db, bookingId: string): Promise<SagaRow | undefined> {
      return (await table(db).where({ booking_id: bookingId }).first()) as SagaRow | undefined;
    },
  };
}

export type SagaState = ReturnType<typeof createSagaState>;
