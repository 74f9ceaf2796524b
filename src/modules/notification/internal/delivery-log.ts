import type { Db } from '../../../platform/db.ts';

export type DeliveryOutcome = 'sending' | 'sent' | 'retry' | 'failed' | 'interrupted';

export interface DeliveryAttempt {
  id: string;
  notificationId: string;
  attempt: number;
  /** the transport that carried it: email (SMTP) or log */
  channel: string;
  recipient: string | null;
  outcome: DeliveryOutcome;
  error: string | null;
  responseCode: number | null;
  response: string | null;
  messageId: string | null;
  jobId: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

interface Row {
  id: string;
  notification_id: string;
  attempt: number;
  channel: string;
  recipient: string | null;
  outcome: DeliveryOutcome;
  error: string | null;
  response_code: number | null;
  response: string | null;
  message_id: string | null;
  job_id: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const toAttempt = (r: Row): DeliveryAttempt => ({
  id: String(r.id),
  notificationId: r.notification_id,
  attempt: r.attempt,
  channel: r.channel,
  recipient: r.recipient,
  outcome: r.outcome,
  error: r.error,
  responseCode: r.response_code,
  response: r.response,
  messageId: r.message_id,
  jobId: r.job_id,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

export interface AttemptResult {
  outcome: Exclude<DeliveryOutcome, 'sending'>;
  error?: string | null;
  responseCode?: number | null;
  response?: string | null;
  messageId?: string | null;
}

const clip = (s: string | null | undefined, max = 2_000) => (s == null ? null : s.length > max ? `${s.slice(0, max - 1)}…` : s);

/**
 * notifications.delivery_log: every delivery attempt, opened (`sending`) before the channel is called and
 * finished after. The schema allows one open attempt and one `sent` per notification.
 */
export function createDeliveryLog(schema = 'notifications') {
  const table = (db: Db) => db.withSchema(schema).table<Row>('delivery_log');
  return {
    /** the attempt in flight, if any */
    async open(db: Db, notificationId: string): Promise<DeliveryAttempt | undefined> {
      const row = (await table(db).where({ notification_id: notificationId, outcome: 'sending' }).first()) as Row | undefined;
      return row ? toAttempt(row) : undefined;
    },
    async start(db: Db, a: { notificationId: string; channel: string; recipient: string | null; jobId: string | null }): Promise<DeliveryAttempt> {
      const [{ next }] = (await table(db).where({ notification_id: a.notificationId }).max({ next: 'attempt' })) as [{ next: number | null }];
      const [row] = (await table(db)
        .insert({ notification_id: a.notificationId, attempt: (next ?? 0) + 1, channel: a.channel, recipient: a.recipient, outcome: 'sending', job_id: a.jobId })
        .returning('*')) as Row[];
      return toAttempt(row!);
    },
    async finish(db: Db, attemptId: string, result: AttemptResult): Promise<void> {
      await table(db)
        .where({ id: attemptId, outcome: 'sending' })
        .update({
          outcome: result.outcome,
          error: clip(result.error),
          response_code: result.responseCode ?? null,
          response: clip(result.response),
          message_id: result.messageId ?? null,
          finished_at: new Date(),
        });
    },
    /** attempts that reached the channel (everything but interrupted ones) */
    async countAttempts(db: Db, notificationId: string): Promise<number> {
      const [{ n }] = (await table(db).where({ notification_id: notificationId }).whereNot({ outcome: 'interrupted' }).count({ n: '*' })) as [{ n: string }];
      return Number(n);
    },
    async list(db: Db, notificationId: string): Promise<DeliveryAttempt[]> {
      return ((await table(db).where({ notification_id: notificationId }).orderBy('attempt')) as Row[]).map(toAttempt);
    },
  };
}

export type DeliveryLog = ReturnType<typeof createDeliveryLog>;
