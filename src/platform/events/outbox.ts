import type { Db } from '../db.ts';
import type { Envelope } from './envelope.ts';

/**
 * Append an event to a module's outbox. Call it with the same transaction as the state change it
 * announces: the event exists if and only if the change committed. The relay publishes it later.
 */
export async function appendToOutbox(db: Db, schema: string, envelope: Envelope<Record<string, unknown>>): Promise<void> {
  await db.withSchema(schema).table('outbox').insert({
    event_id: envelope.event_id,
    event_type: envelope.event_type,
    routing_key: envelope.event_type,
    envelope,
  });
}
