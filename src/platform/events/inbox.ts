import { runWithContext } from '../context.ts';
import type { Knex } from '../db.ts';
import type { EventHandler } from '../module.ts';
import type { Envelope } from './envelope.ts';

/** The request context a handler runs in: the event's correlation, caused by the event, as its user. */
export function contextOf(event: Envelope): { correlationId: string; causationId: string; userId?: string } {
  const userId = typeof event.metadata['user_id'] === 'string' ? event.metadata['user_id'] : undefined;
  return { correlationId: event.correlation_id, causationId: event.event_id, ...(userId ? { userId } : {}) };
}

/**
 * Record the event id in the module's inbox and run the handler, in the caller's transaction: the effect
 * and the inbox row commit together or not at all, and an id already there means the effect happened
 * (a duplicate delivery). The Postgres transport's dispatcher uses it; the AMQP consumer does the same.
 */
export async function applyInTransaction(trx: Knex.Transaction, inboxSchema: string, event: Envelope, handler: EventHandler): Promise<'handled' | 'duplicate'> {
  const inserted = await trx
    .withSchema(inboxSchema)
    .table('inbox')
    .insert({ event_id: event.event_id, event_type: event.event_type })
    .onConflict('event_id')
    .ignore()
    .returning('event_id');
  if (inserted.length === 0) return 'duplicate';
  await runWithContext(contextOf(event), () => handler(event, trx));
  return 'handled';
}
