import type { ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { envelopeSchema, type Envelope } from './envelope.ts';
import { retryQueueFor, type QueueNames } from './topology.ts';

/** Message-level helpers of the consumer: decoding, attempt counting, retry and dead-letter publishing. */

export const ATTEMPT_HEADER = 'x-attempt';

export interface DeliveryRoute {
  names: QueueNames;
  retryDelaysMs: number[];
  deadLetterExchange: string;
}

export type Decoded = { ok: true; envelope: Envelope } | { ok: false; reason: string };

export function decodeDelivery(msg: ConsumeMessage): Decoded {
  let body: unknown;
  try {
    body = JSON.parse(msg.content.toString('utf8'));
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = envelopeSchema.safeParse(body);
  if (!parsed.success) {
    return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ').slice(0, 500) };
  }
  return { ok: true, envelope: parsed.data };
}

/** Which delivery of the event this is (1 = first); our retries carry the count in a header. */
export function attemptOf(msg: ConsumeMessage): number {
  const raw = msg.properties.headers?.[ATTEMPT_HEADER];
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

function headersFor(msg: ConsumeMessage, extra: Record<string, unknown>): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg.properties.headers ?? {})) {
    // the broker's own bookkeeping of earlier dead-letterings and deliveries does not travel on
    if (k === 'x-death' || k.startsWith('x-first-death-') || k.startsWith('x-last-death-') || k === 'x-delivery-count') continue;
    headers[k] = v;
  }
  headers['x-original-routing-key'] ??= msg.fields.routingKey;
  headers['x-original-exchange'] ??= msg.fields.exchange;
  return { ...headers, ...extra };
}

function propertiesFor(msg: ConsumeMessage, headers: Record<string, unknown>): Options.Publish {
  const p = msg.properties;
  return {
    persistent: true,
    headers,
    ...(p.contentType ? { contentType: p.contentType } : {}),
    ...(p.contentEncoding ? { contentEncoding: p.contentEncoding } : {}),
    ...(p.messageId ? { messageId: p.messageId } : {}),
    ...(p.correlationId ? { correlationId: p.correlationId } : {}),
    ...(p.type ? { type: p.type } : {}),
    ...(p.appId ? { appId: p.appId } : {}),
    ...(p.timestamp ? { timestamp: p.timestamp } : {}),
  };
}

/** Publish on a confirm channel and wait for the broker's confirm. */
export function publishConfirmed(ch: ConfirmChannel, exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      ch.publish(exchange, routingKey, content, options, (err: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/**
 * Park the message in the retry queue of this attempt's back-off; it returns to the queue when the TTL
 * runs out. The original is acked only after the copy is confirmed, so a crash in between duplicates
 * (absorbed by the inbox) rather than loses. Returns the delay.
 */
export async function retryMessage(ch: ConfirmChannel, msg: ConsumeMessage, route: DeliveryRoute, attempt: number, reason: string): Promise<number> {
  const retry = retryQueueFor(route.names, route.retryDelaysMs, attempt);
  const headers = headersFor(msg, { [ATTEMPT_HEADER]: attempt + 1, 'x-last-error': reason.slice(0, 1_000) });
  await publishConfirmed(ch, '', retry.queue, msg.content, propertiesFor(msg, headers));
  ch.ack(msg);
  return retry.delayMs;
}

/** Send the message to the queue's dead-letter queue (through the DLX) with why, then ack it. */
export async function deadLetterMessage(ch: ConfirmChannel, msg: ConsumeMessage, route: DeliveryRoute, attempt: number, reason: string): Promise<void> {
  const headers = headersFor(msg, {
    'x-attempts': attempt,
    'x-error': reason.slice(0, 1_000),
    'x-dead-lettered-at': new Date().toISOString(),
  });
  await publishConfirmed(ch, route.deadLetterExchange, route.names.queue, msg.content, propertiesFor(msg, headers));
  ch.ack(msg);
}
