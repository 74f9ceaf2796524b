import type { Knex } from '../db.ts';
import type { OutboxRow } from './outbox-store.ts';
import { envelopeOf, type OutboxPublisher } from './publisher.ts';
import { topicMatches } from './topic-match.ts';

/** A consumer the Postgres transport delivers to: its bindings and where its `event_deliveries` table is. */
export interface PostgresRoute {
  queue: string;
  bindings: string[];
  /** the consuming module's pool (its role owns the table) */
  db: Knex;
  schema: string;
  /** called after a row for this consumer was committed (wakes its dispatcher in this process) */
  delivered?: () => void;
}

/**
 * The relay's publisher when events travel through Postgres (ADR 0077): the "exchange" is the list of
 * hosted consumers, routed by the same topic bindings. Publishing an outbox row inserts it into the
 * `event_deliveries` table of every consumer it matches; it resolves once all those inserts committed,
 * as the AMQP publisher resolves on the broker's confirm. A row published twice (crash before the relay
 * marked it) hits the table's primary key and is ignored; an event already handled is caught by the inbox.
 */
export class PostgresOutboxPublisher implements OutboxPublisher {
  private closed = false;
  private readonly routes: PostgresRoute[];

  constructor(routes: PostgresRoute[]) {
    this.routes = routes;
  }

  ready(): boolean {
    return !this.closed;
  }

  async publish(row: OutboxRow): Promise<void> {
    const envelope = envelopeOf(row);
    const targets = this.routes.filter((r) => r.bindings.some((b) => topicMatches(b, row.routing_key)));
    await Promise.all(
      targets.map(async (route) => {
        await route.db
          .withSchema(route.schema)
          .table('event_deliveries')
          .insert({ event_id: envelope.event_id, event_type: envelope.event_type, routing_key: row.routing_key, envelope: JSON.stringify(envelope) })
          .onConflict('event_id')
          .ignore();
        route.delivered?.();
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
