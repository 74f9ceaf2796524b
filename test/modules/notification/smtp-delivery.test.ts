import { randomUUID } from 'node:crypto';
import test from 'ava';
import { userCreatedV1 } from '../../../src/modules/auth/index.ts';
import { DELIVERY_QUEUE, type NotificationModule } from '../../../src/modules/notification/index.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { buildEnvelope } from '../../../src/platform/events/envelope.ts';
import type { Worker } from '../../../src/platform/module.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { bookingCreatedPayload, envelopeOf, handle, startSmtp, waitFor, type TestSmtp, type Verdict } from './support.ts';

const BACKOFF_MS = 200;
const MAX_ATTEMPTS = 4;

let smtp: TestSmtp;
let app: TestApp;
let module: NotificationModule;
let db: Knex;
let worker: Worker;

/** How the server treats each address: `<rule>-<anything>@example.com`; counts are per address and stage. */
const counts = new Map<string, number>();
function verdict(stage: 'rcpt' | 'data', address: string): Verdict {
  const key = `${stage}:${address}`;
  const n = (counts.get(key) ?? 0) + 1;
  counts.set(key, n);
  const rule = address.split('-')[0];
  if (rule === 'greylist' && stage === 'data' && n <= 2) return { code: 451, message: '4.7.1 Greylisted, try again later' };
  if (rule === 'unknown' && stage === 'rcpt') return { code: 550, message: '5.1.1 No such user here' };
  if (rule === 'busy' && stage === 'data') return { code: 421, message: '4.3.2 Service busy, closing' };
  return { ok: true };
}

test.before(async () => {
  smtp = await startSmtp((stage, _n, session, rcpt) => verdict(stage, rcpt?.address ?? session.envelope.rcptTo[0]?.address ?? ''));
  // ROLE=web: no event backbone (no broker needed); this file starts the delivery worker itself
  app = await startTestApp({
    env: {
      ROLE: 'web',
      STORE_NOTIFICATION: 'own',
      SMTP_URL: smtp.url,
      SMTP_FROM: 'Boxoffice <tickets@boxoffice.example>',
      NOTIFICATION_BACKOFF_MS: String(BACKOFF_MS),
      NOTIFICATION_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      NOTIFICATION_SEND_TIMEOUT_MS: '5000',
    },
  });
  module = app.app.notification!;
  db = app.app.databases.forModule('notification');
  worker = module.workers.find((w) => w.name === `jobs:${DELIVERY_QUEUE}`)!;
  await worker.start();
});
test.after.always(async () => {
  await worker?.stop();
  await app?.stop();
  await smtp?.close();
});

const mailsTo = (address: string) => smtp.mails.filter((m) => m.to.includes(address));
const outboxEvents = async (type: string, notificationId: string) =>
  (await db.withSchema('notifications').table('outbox').where({ event_type: type })).filter((r: { envelope: { payload: { notification_id: string } } }) => r.envelope.payload.notification_id === notificationId);

/** user.created for a new user with this address; returns the welcome notification's id */
async function welcome(email: string, fullName = 'Ann Example') {
  const userId = randomUUID();
  const event = buildEnvelope(userCreatedV1, { user_id: userId, email, full_name: fullName, role: 'user', created_at: new Date().toISOString() }, { source: 'auth' });
  await handle(module, db, event);
  const [row] = await db.withSchema('notifications').table('notifications').where({ event_id: event.event_id });
  return { userId, id: row.id as string, event };
}

test('user.created → a welcome email over SMTP: rendered subject and body, to the right address, sent once and recorded', async (t) => {
  const email = `ok-${randomUUID().slice(0, 8)}@example.com`;
  const { id, event } = await welcome(email);
  const [mail] = await waitFor('the welcome mail', () => mailsTo(email).length > 0 && mailsTo(email));
  t.deepEqual(mail!.to, [email]);
  t.is(mail!.from, 'tickets@boxoffice.example');
  t.is(mail!.headers['subject'], 'Welcome to Boxoffice, Ann Example');
  t.regex(mail!.text, /^Hi Ann Example,\n\nyour Boxoffice account is ready\./);
  t.false(mail!.text.includes('{{'), 'no placeholder left');
  t.is(mail!.headers['message-id'], `<${id}@boxoffice.example>`, 'Message-ID derived from the notification id');
  t.is(mail!.headers['x-boxoffice-notification-id'], id);

  const n = await waitFor('status sent', async () => {
    const found = await module.admin.find(id);
    return found?.status === 'sent' && found;
  });
  t.is(n.recipient, email);
  t.is(n.eventId, event.event_id);
  t.true(n.sentAt instanceof Date);
  const log = await module.admin.deliveryLog(id);
  t.is(log.length, 1);
  t.like(log[0], { attempt: 1, channel: 'email', recipient: email, outcome: 'sent', error: null, messageId: `<${id}@boxoffice.example>` });
  t.true(log[0]!.finishedAt! >= log[0]!.startedAt);
  const events = await outboxEvents('notification.sent', id);
  t.is(events.length, 1, 'notification.sent in the outbox, once');
  t.like(events[0].envelope, { source: 'notification', causation_id: event.event_id, payload: { notification_id: id, status: 'sent', channel: 'email' } });
  t.is(mailsTo(email).length, 1);
});

test('451 at DATA twice, then accepted: retried with exponential back-off, delivered exactly once, every attempt logged', async (t) => {
  const email = `greylist-${randomUUID().slice(0, 8)}@example.com`;
  const { id } = await welcome(email);
  await waitFor('delivery after greylisting', async () => (await module.admin.find(id))?.status === 'sent', 15_000);
  t.is(mailsTo(email).length, 1, 'the server accepted the message once');
  t.is(counts.get(`data:${email}`), 3, 'three DATA transactions: 451, 451, 250');
  const log = await module.admin.deliveryLog(id);
  t.deepEqual(log.map((a) => [a.attempt, a.outcome, a.responseCode]), [[1, 'retry', 451], [2, 'retry', 451], [3, 'sent', null]]);
  t.regex(log[0]!.error!, /Greylisted/);
  // BullMQ exponential back-off: ≥ 1×, then ≥ 2× the base delay between attempts
  const gap1 = log[1]!.startedAt.getTime() - log[0]!.finishedAt!.getTime();
  const gap2 = log[2]!.startedAt.getTime() - log[1]!.finishedAt!.getTime();
  t.true(gap1 >= BACKOFF_MS - 20, `first retry waited ${gap1} ms`);
  t.true(gap2 >= 2 * BACKOFF_MS - 20, `second retry waited ${gap2} ms`);
  const job = await module.queues![0]!.getJob(id);
  t.is(job?.attemptsMade, 3);
});

test('550 at RCPT: failed at once, not retried, notification.failed emitted', async (t) => {
  const email = `unknown-${randomUUID().slice(0, 8)}@example.com`;
  const { id } = await welcome(email);
  const n = await waitFor('status failed', async () => {
    const found = await module.admin.find(id);
    return found?.status === 'failed' && found;
  });
  t.regex(n.statusReason!, /^permanent failure: .*550/);
  // 'failed' is BullMQ's final state (a retry would be 'delayed'): no attempt can follow
  await waitFor('the job failed for good', async () => (await module.queues![0]!.getJobState(id)) === 'failed');
  t.is(counts.get(`rcpt:${email}`), 1);
  t.is(counts.get(`data:${email}`), undefined, 'never got to DATA');
  t.is(mailsTo(email).length, 0);
  const log = await module.admin.deliveryLog(id);
  t.deepEqual(log.map((a) => [a.attempt, a.outcome, a.responseCode]), [[1, 'failed', 550]]);
  const events = await outboxEvents('notification.failed', id);
  t.is(events.length, 1);
  t.like(events[0].envelope.payload, { notification_id: id, retry_count: 0 });
  t.regex(events[0].envelope.payload.error, /550/);
});

test('temporary failures that never end: failed after NOTIFICATION_MAX_ATTEMPTS, not retried forever', async (t) => {
  const email = `busy-${randomUUID().slice(0, 8)}@example.com`;
  const { id } = await welcome(email);
  const n = await waitFor('status failed', async () => {
    const found = await module.admin.find(id);
    return found?.status === 'failed' && found;
  }, 20_000);
  t.regex(n.statusReason!, new RegExp(`^gave up after ${MAX_ATTEMPTS} attempts: .*421`));
  await waitFor('the job failed for good', async () => (await module.queues![0]!.getJobState(id)) === 'failed');
  const log = await module.admin.deliveryLog(id);
  t.deepEqual(log.map((a) => a.outcome), ['retry', 'retry', 'retry', 'failed']);
  t.is(counts.get(`data:${email}`), MAX_ATTEMPTS);
  t.is(mailsTo(email).length, 0);
  t.is((await outboxEvents('notification.failed', id))[0]?.envelope.payload.retry_count, MAX_ATTEMPTS - 1);
});

test('a delivered notification queued again (replayed job, sweeper) is not sent a second time', async (t) => {
  const email = `ok-${randomUUID().slice(0, 8)}@example.com`;
  const { id } = await welcome(email);
  await waitFor('sent', async () => (await module.admin.find(id))?.status === 'sent');
  const queue = module.queues![0]!;
  await (await queue.getJob(id))?.remove();
  await queue.add('deliver', { notificationId: id }, { jobId: id });
  const result = await waitFor('the second run', async () => (await queue.getJobState(id)) === 'completed' && (await queue.getJob(id))?.returnvalue);
  t.deepEqual(result, { outcome: 'noop', status: 'sent' });
  t.is((await module.admin.sweep()).requeued, 0);
  t.is(mailsTo(email).length, 1);
  t.is((await module.admin.deliveryLog(id)).length, 1);
});

test('booking.created → "awaiting payment" mail names the movie, seats, total and deadline', async (t) => {
  const userId = randomUUID();
  const email = `ok-${randomUUID().slice(0, 8)}@example.com`;
  const payload = bookingCreatedPayload(userId, email);
  await handle(module, db, envelopeOf('booking.created', payload));
  const [mail] = await waitFor('the mail', () => mailsTo(email).length > 0 && mailsTo(email));
  t.is(mail!.headers['subject'], 'Complete your payment: Dune: Part Three');
  t.true(mail!.text.includes('Dune: Part Three\nCGV Vincom, Screen 5\n2026-01-24 19:00 UTC\nSeats: A1, A2\nTotal: 240000.00 VND'));
  t.true(mail!.text.includes('Please pay before 2026-01-23 10:45 UTC'));
  t.true(mail!.text.includes(`Booking reference: ${payload.booking_id.slice(0, 8).toUpperCase()}`));
  t.true(mail!.text.endsWith('— Boxoffice'), 'non-ASCII survives the transfer encoding');
});
