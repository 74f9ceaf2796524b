import { randomUUID } from 'node:crypto';
import test from 'ava';
import { UnrecoverableError } from 'bullmq';
import { SWEEP_LEASE, type NotificationModule } from '../../../src/modules/notification/index.ts';
import type { Knex } from '../../../src/platform/db.ts';
import { startTestApp, type TestApp } from '../../helpers/app.ts';
import { envelopeOf, handle, waitFor } from './support.ts';

let app: TestApp;
let module: NotificationModule;
let db: Knex;

test.before(async () => {
  // ROLE=web: no delivery worker, so jobs stay where the test puts them
  app = await startTestApp({ env: { ROLE: 'web', STORE_NOTIFICATION: 'own', NOTIFICATION_REQUEUE_AFTER_MS: '50', NOTIFICATION_PARK_HOURS: '1', NOTIFICATION_SWEEP_INTERVAL_MS: '100' } });
  module = app.app.notification!;
  db = app.app.databases.forModule('notification');
});
test.after.always(async () => {
  await app?.stop();
});

const queue = () => module.queues![0]!;

/** what another process holding this interval's lease looks like, in whichever store the app uses */
async function setLease(holder: string | undefined, ms = 0): Promise<void> {
  const redis = app.app.redis;
  if (redis) {
    const key = `${app.env['REDIS_KEY_PREFIX']}${SWEEP_LEASE}`;
    await (holder ? redis.set(key, holder, { expiration: { type: 'PX', value: ms } }) : redis.del(key));
  } else if (holder) {
    await db.raw(`INSERT INTO notifications.sweep_leases (name, holder, expires_at) VALUES (?, ?, now() + make_interval(secs => ?))
      ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`, [SWEEP_LEASE, holder, ms / 1000]);
  } else {
    await db.raw('DELETE FROM notifications.sweep_leases WHERE name = ?', [SWEEP_LEASE]);
  }
}
const intervals = async (outcome: string) =>
  (await app.app.metrics.registry.getSingleMetric('notification_sweep_intervals_total')?.get())?.values.find((v) => v.labels['outcome'] === outcome)?.value ?? 0;
const byEvent = async (eventId: string) => (await db.withSchema('notifications').table('notifications').where({ event_id: eventId }))[0];

test.serial('a pending notification whose job went missing (enqueue failed, Redis lost it) is queued again', async (t) => {
  const e = envelopeOf('user.created', { user_id: randomUUID(), email: 'lost@example.com', full_name: 'Lost Job' });
  await handle(module, db, e);
  const { id } = await byEvent(e.event_id);
  await waitFor('the after-commit enqueue', async () => (await queue().getJobState(id)) === 'waiting');
  await (await queue().getJob(id))!.remove();
  t.is(await queue().getJobState(id), 'unknown');

  const report = await module.admin.sweep(new Date(Date.now() + 1_000));
  t.true(report.requeued >= 1);
  t.is(await queue().getJobState(id), 'waiting');
  t.deepEqual((await queue().getJob(id))?.data, { notificationId: id });

  const again = await module.admin.sweep();
  t.is(await queue().getJobState(id), 'waiting', 'a live job is left alone');
  t.is(again.requeued, 0, 'touched by the last sweep, and its job is live');
});

test.serial('a job that ended without settling its notification (failed in BullMQ) is replaced', async (t) => {
  const e = envelopeOf('user.created', { user_id: randomUUID(), email: 'ended@example.com', full_name: null });
  await handle(module, db, e);
  const { id } = await byEvent(e.event_id);
  await waitFor('the job', async () => (await queue().getJobState(id)) === 'waiting');
  // what a job stalled past its limit (or killed by an operator) looks like: failed, the row still pending
  const rogue = app.app.jobs.worker(queue().name, async () => {
    throw new UnrecoverableError('job stalled more than allowable limit');
  });
  await rogue.start();
  try {
    await waitFor('the failed job', async () => (await queue().getJobState(id)) === 'failed');
  } finally {
    await rogue.stop();
  }
  t.is((await module.admin.find(id))?.status, 'pending');
  await module.admin.sweep(new Date(Date.now() + 1_000));
  t.is(await queue().getJobState(id), 'waiting');
  t.is((await queue().getJob(id))?.attemptsMade, 0, 'a fresh job');
});

test.serial('rows the old system wrote (no event id) are never picked up, however old', async (t) => {
  const id = randomUUID();
  await db.withSchema('notifications').table('notifications').insert({
    id, user_id: randomUUID(), type: 'welcome', subject: 's', message: 'm', status: 'pending', updated_at: new Date('2020-01-01'), created_at: new Date('2020-01-01'),
  });
  await module.admin.sweep();
  t.is(await queue().getJobState(id), 'unknown');
});

test.serial('parked notifications whose user never got an address are skipped after NOTIFICATION_PARK_HOURS', async (t) => {
  const e = envelopeOf('booking.confirmed', { booking_id: randomUUID(), user_id: randomUUID() });
  await handle(module, db, e);
  const { id } = await byEvent(e.event_id);
  t.is((await module.admin.find(id))?.status, 'parked');
  t.is((await module.admin.sweep(new Date(Date.now() + 30 * 60_000))).expired, 0, 'half an hour: still waiting');
  t.is((await module.admin.find(id))?.status, 'parked');
  const report = await module.admin.sweep(new Date(Date.now() + 2 * 3_600_000));
  t.true(report.expired >= 1);
  t.like(await module.admin.find(id), { status: 'skipped', statusReason: 'no email address for the user arrived within 1 h' });
});

test.serial('the sweeper worker does this by itself every interval, one process per interval (a lease in Redis, or in Postgres)', async (t) => {
  const e = envelopeOf('user.created', { user_id: randomUUID(), email: 'periodic@example.com', full_name: null });
  await handle(module, db, e);
  const { id } = await byEvent(e.event_id);
  await waitFor('the job', async () => (await queue().getJobState(id)) === 'waiting');
  await (await queue().getJob(id))!.remove();
  await setLease('another-process', 60_000);
  const sweeper = module.workers.find((w) => w.name === 'notification-sweeper')!;
  await sweeper.start();
  try {
    await waitFor('three intervals left to the lease holder', async () => (await intervals('leased_elsewhere')) >= 3);
    t.is(await intervals('swept'), 0);
    t.is(await queue().getJobState(id), 'unknown', 'another process holds this interval: no sweep here');
    await setLease(undefined);
    await waitFor('the periodic sweep once the lease is free', async () => (await queue().getJobState(id)) === 'waiting', 5_000);
    t.pass();
  } finally {
    await sweeper.stop();
  }
});
