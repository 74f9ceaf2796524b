import { randomBytes, randomUUID } from 'node:crypto';
import test from 'ava';
import type { Job } from 'bullmq';
import { createEmailChannel } from '../../../src/modules/notification/internal/channels.ts';
import { createDeliveryLog } from '../../../src/modules/notification/internal/delivery-log.ts';
import { createDeliveryProcessor, type DeliveryJobData } from '../../../src/modules/notification/internal/delivery-worker.ts';
import { createOwnNotificationStore } from '../../../src/modules/notification/internal/own-notification-store.ts';
import type { NotificationStore } from '../../../src/modules/notification/internal/notification-store.ts';
import { Databases, type Knex } from '../../../src/platform/db.ts';
import { createJobPlatform, type JobPlatform } from '../../../src/platform/jobs/job-platform.ts';
import { createLogger } from '../../../src/platform/logger.ts';
import type { Worker } from '../../../src/platform/module.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';
import { startSmtp, waitFor, type TestSmtp } from './support.ts';

const LOCK_MS = 600;
let dbh: TestDatabase;
let databases: Databases;
let db: Knex;
let smtp: TestSmtp;
let jobs: JobPlatform;
let worker: Worker;
const logger = createLogger('silent');
const log = createDeliveryLog();
const own = createOwnNotificationStore();
/** ids whose next N status changes fail, as if the database went away right after the send */
const failTransitions = new Map<string, number>();
const store: NotificationStore = {
  ...own,
  async transition(db, id, from, change) {
    const left = failTransitions.get(id) ?? 0;
    if (left > 0) {
      failTransitions.set(id, left - 1);
      throw new Error('connection terminated unexpectedly');
    }
    return own.transition(db, id, from, change);
  },
};

let processor: ReturnType<typeof createDeliveryProcessor>;

test.before(async () => {
  [dbh, smtp] = await Promise.all([createTestDatabase(), startSmtp()]);
  databases = new Databases({ DATABASE_URL: dbh.url, DB_POOL_MAX: 6, DB_ROLE_PREFIX: 'boxoffice_' });
  db = databases.forModule('notification');
  jobs = createJobPlatform({ store: { kind: 'redis', url: 'redis://127.0.0.1:6379', keyPrefix: `bo-t-${randomBytes(4).toString('hex')}:` }, logger, defaults: { attempts: 5, backoffMs: 100 } });
  processor = createDeliveryProcessor({
    db, store, log, logger,
    channel: createEmailChannel({ smtpUrl: smtp.url, from: 'Boxoffice <no-reply@boxoffice.test>', timeoutMs: 5_000 }),
    outboxSchema: 'notifications',
    maxAttempts: 5,
    lockMs: LOCK_MS,
    messageIdDomain: 'boxoffice.test',
    recordRetryMs: 5,
  });
  worker = jobs.worker<DeliveryJobData>('delivery', processor, { concurrency: 4 });
  await worker.start();
});
test.after.always(async () => {
  await worker?.stop();
  for (const q of jobs?.queues ?? []) await q.obliterate({ force: true }).catch(() => undefined);
  await jobs?.close();
  await smtp?.close();
  await databases?.closeAll();
  await dbh?.drop();
});

async function pending(): Promise<{ id: string; to: string }> {
  const id = randomUUID();
  const to = `u-${id.slice(0, 8)}@example.com`;
  await own.insert(db, {
    id, userId: randomUUID(), type: 'booking_confirmed', channel: 'email', recipient: to, subject: 'Your tickets', message: 'Enjoy the show',
    status: 'pending', statusReason: null, eventId: randomUUID(), eventType: 'booking.confirmed',
  });
  return { id, to };
}
const mailsTo = (to: string) => smtp.mails.filter((m) => m.to.includes(to));
const queue = () => jobs.queue<DeliveryJobData>('delivery');
const sentStatus = (id: string) => waitFor(`${id} sent`, async () => (await own.findById(db, id))?.status === 'sent', 15_000);

test('the database fails right after the server accepted the mail: the retry records it and does not send again', async (t) => {
  const { id, to } = await pending();
  failTransitions.set(id, 6); // every try of the first run's record fails
  await queue().add('deliver', { notificationId: id }, { jobId: id });
  await sentStatus(id);
  t.is(mailsTo(to).length, 1, 'one mail');
  const job = await queue().getJob(id);
  t.is(job?.attemptsMade, 2, 'the first run failed (record), the second recorded');
  t.truthy(job?.data.sent?.messageId, 'the send was marked on the job before recording');
  t.deepEqual(job?.returnvalue, { outcome: 'sent', messageId: job?.data.sent?.messageId });
  const attempts = await log.list(db, id);
  t.deepEqual(attempts.map((a) => [a.attempt, a.outcome]), [[1, 'sent']]);
});

test('an attempt left open by a dead worker is closed as interrupted and the mail goes out once, same Message-ID', async (t) => {
  const { id, to } = await pending();
  await db.withSchema('notifications').table('delivery_log').insert({
    notification_id: id, attempt: 1, channel: 'email', recipient: to, outcome: 'sending', started_at: new Date(Date.now() - 3_600_000),
  });
  await queue().add('deliver', { notificationId: id }, { jobId: id });
  await sentStatus(id);
  const attempts = await log.list(db, id);
  t.deepEqual(attempts.map((a) => [a.attempt, a.outcome]), [[1, 'interrupted'], [2, 'sent']]);
  t.regex(attempts[0]!.error!, /outcome unknown/);
  t.is(mailsTo(to).length, 1);
  t.is(mailsTo(to)[0]!.headers['message-id'], `<${id}@boxoffice.test>`);
});

test('an attempt in flight elsewhere (fresh): this run backs off instead of sending alongside it', async (t) => {
  const { id, to } = await pending();
  await db.withSchema('notifications').table('delivery_log').insert({ notification_id: id, attempt: 1, channel: 'email', recipient: to, outcome: 'sending' });
  const added = Date.now();
  await queue().add('deliver', { notificationId: id }, { jobId: id });
  await waitFor('the job is delayed', async () => (await queue().getJobState(id)) === 'delayed');
  t.is(mailsTo(to).length, 0, 'nothing sent while the other attempt may still be sending');
  await sentStatus(id);
  t.true(Date.now() - added >= LOCK_MS, 'it waited for the other attempt to go stale');
  t.deepEqual((await log.list(db, id)).map((a) => a.outcome), ['interrupted', 'sent']);
  t.is(mailsTo(to).length, 1);
});

test('two runs of one notification at the same time (a stalled job picked up twice): one mail', async (t) => {
  const { id, to } = await pending();
  const fakeJob = (): Job<DeliveryJobData> => {
    const data: DeliveryJobData = { notificationId: id };
    return { id, data, async updateData(d: DeliveryJobData) { Object.assign(data, d); }, async moveToDelayed() {} } as unknown as Job<DeliveryJobData>;
  };
  const results = await Promise.allSettled([processor(fakeJob(), 'a'), processor(fakeJob(), 'b')]);
  const outcomes = results.map((r) => (r.status === 'fulfilled' ? r.value.outcome : (r.reason as Error).name)).sort();
  t.true(
    JSON.stringify(outcomes) === JSON.stringify(['DelayedError', 'sent']) || JSON.stringify(outcomes) === JSON.stringify(['noop', 'sent']),
    `one sent, the other backed off or found it done: ${outcomes.join(', ')}`,
  );
  t.is(mailsTo(to).length, 1);
  t.deepEqual((await log.list(db, id)).map((a) => a.outcome), ['sent']);
});

test('a notification that is not pending (sent, parked, gone) is a no-op', async (t) => {
  const { id, to } = await pending();
  await own.transition(db, id, ['pending'], { status: 'skipped', statusReason: 'opted out' });
  const fake = { id, data: { notificationId: id } } as unknown as Job<DeliveryJobData>;
  t.deepEqual(await processor(fake), { outcome: 'noop', status: 'skipped' });
  const gone = randomUUID();
  t.deepEqual(await processor({ id: gone, data: { notificationId: gone } } as unknown as Job<DeliveryJobData>), { outcome: 'noop', status: 'missing' });
  t.is(mailsTo(to).length, 0);
  t.is((await log.list(db, id)).length, 0);
});
