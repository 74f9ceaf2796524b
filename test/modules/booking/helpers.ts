import type { Envelope } from '../../../src/platform/events/envelope.ts';
import type { TestApp } from '../../helpers/app.ts';

/**
 * Stand-in for the event backbone between booking and movie: every booking event in bookings.outbox
 * not yet delivered is handed to the movie module's consumer handler, in a transaction of the movie pool
 * that also records the event id in movies.inbox (what the real consumer does).
 */
export async function deliverOutbox(t: TestApp): Promise<number> {
  const movie = t.app.movie!;
  const movieDb = t.app.databases.forModule('movie');
  const rows = (await t.app.databases.forModule('booking').withSchema('bookings').table('outbox').orderBy('id').select('envelope')) as { envelope: Envelope }[];
  let delivered = 0;
  for (const { envelope } of rows) {
    const handler = movie.consumer!.handlers[envelope.event_type];
    if (!handler) continue;
    await movieDb.transaction(async (trx) => {
      const fresh = await trx.withSchema('movies').table('inbox').insert({ event_id: envelope.event_id, event_type: envelope.event_type }).onConflict('event_id').ignore().returning('event_id');
      if (fresh.length === 0) return;
      await handler(envelope, trx);
      delivered++;
    });
  }
  return delivered;
}

