import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Knex } from '../../../platform/db.ts';
import { buildEnvelope } from '../../../platform/events/envelope.ts';
import { appendToOutbox } from '../../../platform/events/outbox.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { Channel } from './channels.ts';
import type { DeliveryAttempt, DeliveryLog } from './delivery-log.ts';
import { DeliveryError } from './errors.ts';
import { notificationFailedV1, notificationSentV1 } from './events.ts';
import type { NotificationStore } from './notification-store.ts';
import type { NotificationRecord } from './types.ts';

export const DELIVERY_QUEUE = 'notification-delivery';

export interface DeliveryJobData {
  notificationId: string;
  /** written to the job (Redis) right after the channel accepted the message: the send is not repeated */
  sent?: { messageId: string; response?: string | undefined; at: string };
}

export type DeliveryResult = { outcome: 'sent'; messageId: string } | { outcome: 'noop'; status: string };

export interface DeliveryDeps {
  db: Knex;
  store: NotificationStore;
  log: DeliveryLog;
  channel: Channel;
  logger: Logger;
  outboxSchema: string;
  /** attempts (delivery_log rows, interrupted ones included) before a notification is failed */
  maxAttempts: number;
  /** an attempt open longer than this belonged to a worker that died */
  lockMs: number;
  /** right-hand side of the Message-ID: <notification-id@domain> */
  messageIdDomain: string;
  /** first pause between tries of recording an outcome (doubles; 6 tries) */
  recordRetryMs?: number;
}

type Claim =
  | { kind: 'noop'; status: string }
  | { kind: 'busy' }
  | { kind: 'send' | 'settle'; n: NotificationRecord; attempt: DeliveryAttempt };

const SOURCE = 'notification';

/**
 * Delivers one notification, exactly once as far as SMTP allows (ADR 0040):
 *  1. claim — in one transaction: the notification row locked and still pending, a previous attempt left
 *     open by a dead worker closed as `interrupted`, a new attempt opened (`sending`; the schema allows one);
 *  2. send — outside any transaction, Message-ID derived from the notification id;
 *  3. record — the outcome first onto the job in Redis, then (retried) into Postgres with the status and
 *     the notification.sent / notification.failed event. A run that finds the job already marked sent only
 *     records; one that finds a `sent` status does nothing.
 * Temporary failures (4yz, broken connections) throw, and BullMQ retries with exponential back-off; a
 * permanent one (5yz) or the last attempt fails the notification and the job (UnrecoverableError).
 */
export function createDeliveryProcessor(d: DeliveryDeps) {
  const log = d.logger.child({ component: 'notification-delivery' });

  async function claim(job: Job<DeliveryJobData>): Promise<Claim> {
    const id = job.data.notificationId;
    return d.db.transaction(async (trx) => {
      const n = await d.store.lockById(trx, id);
      if (!n) return { kind: 'noop', status: 'missing' };
      if (n.status !== 'pending') return { kind: 'noop', status: n.status };
      const open = await d.log.open(trx, id);
      if (open && job.data.sent) return { kind: 'settle', n, attempt: open };
      if (open && Date.now() - open.startedAt.getTime() < d.lockMs) return { kind: 'busy' };
      if (open) {
        await d.log.finish(trx, open.id, {
          outcome: 'interrupted',
          error: 'the worker stopped during the send; outcome unknown, sending again with the same Message-ID',
        });
      }
      const attempt = await d.log.start(trx, { notificationId: id, channel: d.channel.name, recipient: n.recipient, jobId: job.id ?? null });
      return { kind: job.data.sent ? 'settle' : 'send', n, attempt };
    });
  }

  async function recordSent(n: NotificationRecord, attempt: DeliveryAttempt, sent: NonNullable<DeliveryJobData['sent']>): Promise<void> {
    await withDbRetries(log, () =>
      d.db.transaction(async (trx) => {
        await d.log.finish(trx, attempt.id, { outcome: 'sent', messageId: sent.messageId, response: sent.response ?? null });
        const moved = await d.store.transition(trx, n.id, ['pending'], { status: 'sent', statusReason: null, sentAt: new Date(sent.at) });
        if (!moved) return;
        const payload = { notification_id: n.id, user_id: n.userId, type: n.type, channel: attempt.channel, status: 'sent' as const, sent_at: sent.at };
        await appendToOutbox(trx, d.outboxSchema, buildEnvelope(notificationSentV1, payload, { source: SOURCE, causationId: n.eventId }));
      }),
      d.recordRetryMs,
    );
  }

  async function recordFailure(n: NotificationRecord, attempt: DeliveryAttempt, err: DeliveryError, final: boolean): Promise<void> {
    await withDbRetries(log, () =>
      d.db.transaction(async (trx) => {
        const result = { error: err.message, responseCode: err.responseCode ?? null, response: err.response ?? null };
        await d.log.finish(trx, attempt.id, { outcome: final ? 'failed' : 'retry', ...result });
        if (!final) return d.store.touch(trx, n.id);
        const reason = `${err.permanent ? 'permanent' : 'gave up after'} ${err.permanent ? 'failure' : `${attempt.attempt} attempts`}: ${err.message}`.slice(0, 500);
        const moved = await d.store.transition(trx, n.id, ['pending'], { status: 'failed', statusReason: reason });
        if (!moved) return;
        const payload = { notification_id: n.id, user_id: n.userId, type: n.type, channel: attempt.channel, error: err.message.slice(0, 500), retry_count: attempt.attempt - 1 };
        await appendToOutbox(trx, d.outboxSchema, buildEnvelope(notificationFailedV1, payload, { source: SOURCE, causationId: n.eventId }));
      }),
      d.recordRetryMs,
    );
  }

  return async function deliver(job: Job<DeliveryJobData>, token?: string): Promise<DeliveryResult> {
    const c = await claim(job);
    if (c.kind === 'noop') return { outcome: 'noop', status: c.status };
    if (c.kind === 'busy') {
      // another run of this notification is mid-send (a stalled job picked up twice): look again later
      await job.moveToDelayed(Date.now() + d.lockMs, token);
      throw new DelayedError();
    }
    const { n, attempt } = c;
    if (c.kind === 'settle') {
      await recordSent(n, attempt, job.data.sent!);
      return { outcome: 'sent', messageId: job.data.sent!.messageId };
    }
    let failure: DeliveryError;
    try {
      if (!n.recipient) throw new DeliveryError('no recipient address', { permanent: true });
      const result = await d.channel.send({
        notificationId: n.id,
        to: n.recipient,
        subject: n.subject,
        text: n.message,
        messageId: `<${n.id}@${d.messageIdDomain}>`,
      });
      const sent = { messageId: result.messageId, response: result.response, at: new Date().toISOString() };
      await job.updateData({ ...job.data, sent }).catch((err: unknown) => log.warn({ err, notificationId: n.id }, 'could not mark the job sent'));
      await recordSent(n, attempt, sent);
      log.info({ notificationId: n.id, attempt: attempt.attempt, channel: attempt.channel }, 'notification delivered');
      return { outcome: 'sent', messageId: result.messageId };
    } catch (err) {
      if (!(err instanceof DeliveryError)) throw err;
      failure = err;
    }
    const final = failure.permanent || attempt.attempt >= d.maxAttempts;
    await recordFailure(n, attempt, failure, final);
    const line = { notificationId: n.id, attempt: attempt.attempt, responseCode: failure.responseCode, err: failure.message };
    if (final) {
      log.warn(line, 'notification delivery failed for good');
      throw new UnrecoverableError(`delivery failed: ${failure.message}`);
    }
    log.info(line, 'notification delivery failed; retrying with back-off');
    throw new Error(`delivery attempt ${attempt.attempt} failed: ${failure.message}`);
  };
}

/** A short database outage right after a send must not turn into a second send: retry the record. */
async function withDbRetries(log: Logger, fn: () => Promise<unknown>, baseMs = 100, attempts = 6): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await fn();
      return;
    } catch (err) {
      if (i >= attempts) throw err;
      log.warn({ err, attempt: i }, 'recording a delivery outcome failed; retrying');
      await new Promise((r) => setTimeout(r, baseMs * 2 ** (i - 1)));
    }
  }
}
