import type { Knex } from 'knex';

/**
 * The fake payment gateway's own records (PAYMENT_GATEWAY=fake; ADR 0032). It stands in for the state a
 * real gateway keeps on its side: what it charged and refunded, keyed by the idempotency key we sent, so a
 * retry after our process died finds the charge instead of making a second one. Writes are autocommitted
 * by the fake, outside our transactions, which is what lets the ledger survive our "crash". `requests`
 * counts every call made with the key (replays included); a real adapter leaves this table empty.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE fake_gateway_ledger (
      id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      idempotency_key TEXT NOT NULL UNIQUE,
      operation TEXT NOT NULL CHECK (operation IN ('charge', 'refund')),
      reference TEXT NOT NULL UNIQUE,
      charge_reference TEXT,
      token TEXT,
      amount NUMERIC(12,2) NOT NULL,
      currency CHAR(3) NOT NULL,
      outcome TEXT NOT NULL CHECK (outcome IN ('succeeded', 'declined')),
      decline_code TEXT,
      card_last_four TEXT,
      requests INTEGER NOT NULL DEFAULT 1,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
      last_request_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX fake_gateway_ledger_one_refund_key ON fake_gateway_ledger (charge_reference) WHERE operation = 'refund';
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS fake_gateway_ledger');
}
