import type { Channel } from 'amqplib';
import { z } from 'zod';

/**
 * The broker topology of seed 002 §3.1, §8.6: a topic exchange for domain events, a topic DLX, and per
 * consuming module a durable queue (quorum where the broker supports it) with
 *   - its bindings on the events exchange,
 *   - retry queues `<queue>.retry.<ms>ms`, one per back-off delay, whose messages dead-letter back to
 *     `<queue>` (through the default exchange) when their TTL runs out,
 *   - a dead-letter queue `<queue>.dlq`, bound to the DLX with routing key `<queue>`.
 * Declaring is idempotent and happens on every (re)connect of every channel that needs it.
 */
export const topologySchema = z.object({
  exchange: z.string().min(1),
  deadLetterExchange: z.string().min(1),
  queueType: z.enum(['auto', 'quorum', 'classic']),
  retryDelaysMs: z.array(z.number().int().positive()).min(1),
  /** quorum queues: unacknowledged deliveries (a consumer crashing on a message) before the broker dead-letters it */
  deliveryLimit: z.number().int().positive(),
  queues: z.array(
    z.object({
      name: z.string().min(1).max(200),
      bindings: z.array(z.string().min(1)),
    }),
  ),
});

export type Topology = z.infer<typeof topologySchema>;

export interface QueueNames {
  queue: string;
  deadLetter: string;
  /** retry queue per back-off delay, in the order of attempts */
  retries: { delayMs: number; queue: string }[];
}

export function queueNames(queue: string, retryDelaysMs: number[]): QueueNames {
  const delays = [...new Set(retryDelaysMs)];
  return {
    queue,
    deadLetter: `${queue}.dlq`,
    retries: delays.map((delayMs) => ({ delayMs, queue: `${queue}.retry.${delayMs}ms` })),
  };
}

/** The retry queue for the attempt that just failed (1-based); the last delay repeats. */
export function retryQueueFor(names: QueueNames, retryDelaysMs: number[], failedAttempt: number): { delayMs: number; queue: string } {
  const delay = retryDelaysMs[Math.min(failedAttempt, retryDelaysMs.length) - 1] ?? retryDelaysMs[0]!;
  return names.retries.find((r) => r.delayMs === delay)!;
}

/** Quorum queues with message TTL and at-least-once dead-lettering need RabbitMQ 3.10 or later. */
export function supportsQuorum(serverVersion: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)/.exec(serverVersion ?? '');
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 3 || (major === 3 && minor >= 10);
}

export function resolveQueueType(topology: Pick<Topology, 'queueType'>, serverVersion: string | undefined): 'quorum' | 'classic' {
  if (topology.queueType !== 'auto') return topology.queueType;
  return supportsQuorum(serverVersion) ? 'quorum' : 'classic';
}

function serverVersionOf(channel: Channel): string | undefined {
  const version = channel.connection.serverProperties.version;
  return typeof version === 'string' ? version : undefined;
}

function queueArgs(type: 'quorum' | 'classic', extra: Record<string, unknown>, deadLettering: boolean): Record<string, unknown> {
  if (type === 'classic') return extra;
  return {
    'x-queue-type': 'quorum',
    'x-quorum-initial-group-size': 3,
    // at-least-once dead-lettering: a message is only removed once the dead-letter target confirmed it
    ...(deadLettering ? { 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } : {}),
    ...extra,
  };
}

/**
 * Declare the exchanges and the queues of the topology on a channel (idempotent). `queues` narrows the
 * queues declared: a consumer declares its own only, the relay none — a declaration the broker refuses
 * (406: the queue exists with other arguments) closes the channel, and must not take the others down.
 */
export async function declareTopology(channel: Channel, topology: Topology, options: { queues?: string[] } = {}): Promise<void> {
  const type = resolveQueueType(topology, serverVersionOf(channel));
  await channel.assertExchange(topology.exchange, 'topic', { durable: true });
  await channel.assertExchange(topology.deadLetterExchange, 'topic', { durable: true });
  const only = options.queues ? new Set(options.queues) : undefined;
  for (const q of topology.queues.filter((q) => !only || only.has(q.name))) {
    const names = queueNames(q.name, topology.retryDelaysMs);
    await channel.assertQueue(names.queue, {
      durable: true,
      arguments: queueArgs(
        type,
        {
          'x-dead-letter-exchange': topology.deadLetterExchange,
          'x-dead-letter-routing-key': names.queue,
          ...(type === 'quorum' ? { 'x-delivery-limit': topology.deliveryLimit } : {}),
        },
        true,
      ),
    });
    for (const pattern of q.bindings) await channel.bindQueue(names.queue, topology.exchange, pattern);
    for (const retry of names.retries) {
      await channel.assertQueue(retry.queue, {
        durable: true,
        arguments: queueArgs(
          type,
          { 'x-message-ttl': retry.delayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': names.queue },
          true,
        ),
      });
    }
    await channel.assertQueue(names.deadLetter, { durable: true, arguments: queueArgs(type, {}, false) });
    await channel.bindQueue(names.deadLetter, topology.deadLetterExchange, names.queue);
  }
}
