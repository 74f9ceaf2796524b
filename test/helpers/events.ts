import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqplib from 'amqplib';
import { z } from 'zod';
import { createPool, type Knex } from '../../src/platform/db.ts';
import { buildEnvelope, defineEvent, type Envelope } from '../../src/platform/events/envelope.ts';
import { appendToOutbox } from '../../src/platform/events/outbox.ts';
import { createInboxTableV1, createOutboxNotifyTriggerV1, createOutboxTableV1 } from '../../src/platform/events/outbox-ddl.ts';
import { declareTopology, type Topology } from '../../src/platform/events/topology.ts';
import { createLogger } from '../../src/platform/logger.ts';

const run = promisify(execFile);
export const AMQP_BASE = process.env['TEST_AMQP_BASE_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

export const testLogger = () => createLogger((process.env['TEST_LOG_LEVEL'] as 'silent' | undefined) ?? 'silent');

export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', args, { timeout: 60_000 });
  return stdout;
}

export interface TestVhost {
  name: string;
  /** AMQP URL of the vhost */
  url: string;
  drop(): Promise<void>;
}

/**
 * A RabbitMQ vhost of its own (exchanges and queues cannot collide with another test file's), deleted by
 * drop(). Vhosts a crashed run left behind (bo_t_<epoch>_…, older than 2 h) are deleted on the way.
 */
export async function createTestVhost(): Promise<TestVhost> {
  const name = `bo_t_${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const cutoff = Date.now() / 1000 - 2 * 3600;
  const listed = await rabbitmqctl('list_vhosts', '--quiet', '--no-table-headers').catch(() => '');
  for (const vhost of listed.split('\n').map((s) => s.trim())) {
    const epoch = Number(/^bo_t_(\d+)_/.exec(vhost)?.[1] ?? Infinity);
    if (epoch < cutoff) await rabbitmqctl('delete_vhost', vhost).catch(() => undefined);
  }
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  return {
    name,
    url: `${AMQP_BASE}/${encodeURIComponent(name)}`,
    drop: async () => void (await rabbitmqctl('delete_vhost', name).catch(() => undefined)),
  };
}

/** A test topology: the exchanges and the given queues, short back-offs. */
export function testTopology(queues: { name: string; bindings: string[] }[], overrides: Partial<Topology> = {}): Topology {
  return {
    exchange: 'domain.events',
    deadLetterExchange: 'domain.events.dlx',
    queueType: 'auto',
    retryDelaysMs: [100, 200],
    deliveryLimit: 20,
    queues,
    ...overrides,
  };
}

/**
 * A scratch schema standing in for a module: outbox (+ NOTIFY trigger), inbox, and an `effects` table a
 * handler appends to — deliberately without a unique key, so a handler applied twice shows as two rows.
 */
export async function createScratchSchema(dbUrl: string, schema = `s_${randomBytes(4).toString('hex')}`): Promise<{ schema: string; db: Knex }> {
  const admin = createPool(dbUrl, { max: 1 });
  await admin.raw(`CREATE SCHEMA "${schema}"`);
  await admin.destroy();
  const db = createPool(dbUrl, { searchPath: schema, max: 6 });
  await createOutboxTableV1(db);
  await createOutboxNotifyTriggerV1(db);
  await createInboxTableV1(db);
  await db.raw(`CREATE TABLE effects (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id UUID NOT NULL, n INTEGER NOT NULL)`);
  return { schema, db };
}

/**
 * A scratch schema (createScratchSchema) and one queue bound to `bindings`, declared on the vhost — by
 * default behind an exchange and DLX of its own, so several in one vhost cannot see each other's events.
 * The pool is handed to `cleanup`.
 */
export async function createScratchRig(
  dbUrl: string,
  amqpUrl: string,
  options: { bindings: string[]; sharedExchange?: boolean; cleanup: (() => Promise<unknown>)[] },
): Promise<{ db: Knex; schema: string; topology: Topology; queue: string }> {
  const { schema, db } = await createScratchSchema(dbUrl);
  options.cleanup.push(() => db.destroy());
  const id = randomBytes(4).toString('hex');
  const queue = `q-${id}`;
  const topology = testTopology([{ name: queue, bindings: options.bindings }], options.sharedExchange ? {} : { exchange: `ex-${id}`, deadLetterExchange: `dlx-${id}` });
  const conn = await amqplib.connect(amqpUrl);
  try {
    await declareTopology(await conn.createChannel(), topology);
  } finally {
    await conn.close();
  }
  return { db, schema, topology, queue };
}

export const testEventV1 = defineEvent('test.happened', '1.0', z.object({ n: z.number().int(), poison: z.boolean().optional() }));

/** Append `count` events to the outbox, `perTx` per committed transaction. */
export async function appendTestEvents(
  db: Knex,
  schema: string,
  count: number,
  options: { from?: number; perTx?: number; type?: string; correlationId?: string } = {},
): Promise<Envelope[]> {
  const out: Envelope[] = [];
  const from = options.from ?? 0;
  const perTx = options.perTx ?? 50;
  for (let i = 0; i < count; i += perTx) {
    await db.transaction(async (trx) => {
      for (let j = i; j < Math.min(i + perTx, count); j++) {
        const def = options.type ? { ...testEventV1, type: options.type } : testEventV1;
        const env = buildEnvelope(def, { n: from + j }, { source: 'test', ...(options.correlationId ? { correlationId: options.correlationId } : {}) });
        await appendToOutbox(trx, schema, env);
        out.push(env);
      }
    });
  }
  return out;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function count(db: Knex, sql: string, bindings: readonly Knex.RawBinding[] = []): Promise<number> {
  const { rows } = await db.raw<{ rows: { n: string }[] }>(sql, bindings);
  return Number(rows[0]?.n ?? 0);
}

/** Drain every message currently in a queue (plain amqplib, no ack needed afterwards). */
export async function drainQueue(url: string, queue: string): Promise<amqplib.GetMessage[]> {
  const conn = await amqplib.connect(url);
  try {
    const ch = await conn.createChannel();
    const out: amqplib.GetMessage[] = [];
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (!m) break;
      out.push(m);
    }
    return out;
  } finally {
    await conn.close();
  }
}
