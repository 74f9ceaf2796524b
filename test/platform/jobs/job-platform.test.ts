import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { MetricValue } from 'prom-client';
import { createClient } from 'redis';
import { Health } from '../../../src/platform/health.ts';
import { createJobPlatform, type JobPlatform, type JobPlatformOptions, type JobStore } from '../../../src/platform/jobs/job-platform.ts';
import { createLogger } from '../../../src/platform/logger.ts';
import { createMetrics } from '../../../src/platform/metrics.ts';
import { testBackend } from '../../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../../helpers/db.ts';

const REDIS = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
/** test/postgres-profile/job-platform.test.ts runs these on BullMQ's Postgres backend (BACKEND=postgres) */
const onPostgres = testBackend() === 'postgres';
let db: TestDatabase | undefined;
const logger = createLogger('silent');
const platforms: JobPlatform[] = [];
/** platforms on an unreachable Redis: nothing to clean up there (and obliterate would wait for it) */
const unreachable = new Set<JobPlatform>();

function platform(over: Partial<JobPlatformOptions> = {}): JobPlatform {
  const store: JobStore = onPostgres
    ? { kind: 'postgres', url: db!.url, role: 'boxoffice_jobs', poolMax: 4 }
    : { kind: 'redis', url: REDIS, keyPrefix: `bo-t-${randomBytes(4).toString('hex')}:` };
  const p = createJobPlatform({ store, logger, ...over });
  platforms.push(p);
  return p;
}

/** a store nothing answers at */
const unreachableStore = (): JobStore =>
  onPostgres ? { kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none', role: 'boxoffice_jobs', poolMax: 2 } : { kind: 'redis', url: 'redis://127.0.0.1:1', keyPrefix: 'bo-t-down:' };

test.before(async () => {
  if (onPostgres) db = await createTestDatabase();
});

test.after.always(async () => {
  await db?.drop();
});

test.after.always(async () => {
  for (const p of platforms) {
    if (!unreachable.has(p)) for (const q of p.queues) await q.obliterate({ force: true }).catch(() => undefined);
    await p.close();
  }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

if (!onPostgres) test('queues are namespaced by the key prefix: apps with different REDIS_KEY_PREFIX never share jobs', async (t) => {
  const a = platform();
  const b = platform();
  const seenByB: string[] = [];
  const wb = b.worker<{ n: number }>('mail', async (job) => void seenByB.push(job.id!));
  await wb.start();
  const job = await a.queue<{ n: number }>('mail').add('x', { n: 1 });
  // b's own job, queued after a's: had a's landed in b's queue, b's worker would have taken it first
  const marker = await b.queue<{ n: number }>('mail').add('x', { n: 2 }, { jobId: 'b-marker' });
  await until("b's own job", () => seenByB.length > 0);
  t.deepEqual(seenByB, [marker.id], "b's worker never saw a's job");
  t.is(await a.queue('mail').getJobState(job.id!), 'waiting');
  const redis = createClient({ url: REDIS });
  await redis.connect();
  try {
    t.is(await redis.exists(`${a.prefix}:mail:${job.id}`), 1, `the job lives under ${a.prefix}`);
    t.is(await redis.exists(`${b.prefix}:mail:${job.id}`), 0);
  } finally {
    await redis.close();
  }
  const seenByA: string[] = [];
  const wa = a.worker('mail', async (j) => void seenByA.push(j.id!));
  await wa.start();
  await until("a's worker", () => seenByA.length === 1);
  t.deepEqual(seenByA, [job.id]);
  await Promise.all([wa.stop(), wb.stop()]);
});

test('defaults: retries with exponential back-off until success; bounded retention; given up after `attempts`', async (t) => {
  const p = platform({ defaults: { attempts: 4, backoffMs: 100, keepCompleted: 7, keepFailed: 9 } });
  const runs: Record<string, number[]> = {};
  const w = p.worker<{ failTimes: number }>('flaky', async (job) => {
    (runs[job.id!] ??= []).push(Date.now());
    if (job.attemptsMade < job.data.failTimes) throw new Error(`failure ${job.attemptsMade + 1}`);
    return 'done';
  });
  await w.start();
  const q = p.queue<{ failTimes: number }>('flaky');
  const ok = await q.add('x', { failTimes: 2 });
  const never = await q.add('x', { failTimes: 99 });
  await until('both settle', async () => (await q.getJobState(ok.id!)) === 'completed' && (await q.getJobState(never.id!)) === 'failed');
  const okRuns = runs[ok.id!]!;
  t.is(okRuns.length, 3);
  t.true(okRuns[1]! - okRuns[0]! >= 95, `first back-off ${okRuns[1]! - okRuns[0]!} ms`);
  t.true(okRuns[2]! - okRuns[1]! >= 195, `second back-off ${okRuns[2]! - okRuns[1]!} ms (doubled)`);
  const done = (await q.getJob(ok.id!))!;
  t.is(done.returnvalue, 'done');
  t.deepEqual(done.opts.removeOnComplete, { count: 7 });
  t.deepEqual(done.opts.removeOnFail, { count: 9 });
  t.deepEqual(done.opts.backoff, { type: 'exponential', delay: 100 });
  t.is(runs[never.id!]!.length, 4, 'not retried past attempts');
  t.is((await q.getJob(never.id!))!.failedReason, 'failure 4');
  await w.stop();
});

test('stop() lets a running job finish before it resolves (graceful shutdown)', async (t) => {
  const p = platform();
  let finished = false;
  let started = false;
  const w = p.worker('slow', async () => {
    started = true;
    await sleep(400);
    finished = true;
    return 'ok';
  });
  await w.start();
  const job = await p.queue('slow').add('x', {});
  await until('the job starts', () => started);
  const t0 = Date.now();
  await w.stop();
  t.true(finished, 'the job ran to the end');
  t.true(Date.now() - t0 >= 200);
  t.is(await p.queue('slow').getJobState(job.id!), 'completed');
});

test('metrics count job outcomes; close() is idempotent and ends the platform', async (t) => {
  const metrics = createMetrics();
  const p = platform({ metrics, defaults: { attempts: 2, backoffMs: 10 } });
  const w = p.worker<{ ok: boolean }>('counted', async (job) => {
    if (!job.data.ok) throw new Error('no');
  });
  await w.start();
  const q = p.queue<{ ok: boolean }>('counted');
  const [a, b] = [await q.add('x', { ok: true }), await q.add('x', { ok: false })];
  await until('settled', async () => (await q.getJobState(a.id!)) === 'completed' && (await q.getJobState(b.id!)) === 'failed');
  let values: MetricValue<string>[] = [];
  const of = (outcome: string) => values.find((v) => v.labels['queue'] === 'counted' && v.labels['outcome'] === outcome)?.value;
  // the counters move on the worker's events, just after the job's state
  await until('three outcomes counted', async () => ((values = (await metrics.registry.getSingleMetric('jobs_processed_total')!.get()).values), values.length >= 3));
  t.is(of('completed'), 1);
  t.is(of('retried'), 1);
  t.is(of('failed'), 1);
  t.is(p.queue('counted'), q, 'one queue per name');
  await q.obliterate({ force: true });
  await p.close();
  await p.close();
  t.deepEqual(p.queues, []);
  t.throws(() => p.queue('again'), { message: /closed/ });
});

test('readiness: the jobs check answers with the store up and reports failing when it is unreachable', async (t) => {
  const up = platform();
  up.queue('ready');
  await t.notThrowsAsync(up.ping());
  const down = platform({ store: unreachableStore() });
  unreachable.add(down);
  down.queue('ready');
  const health = new Health(1_000);
  health.register('jobs', () => down.ping());
  health.markStarted();
  const report = await health.readiness();
  t.false(report.ready);
  t.is(report.checks['jobs']?.status, 'failing');
  const none = platform();
  await t.notThrowsAsync(none.ping(), 'nothing to check without queues');
});

test('store unreachable: a worker starts without hanging start-up, and stops (and closes) promptly', async (t) => {
  const down = platform({ store: unreachableStore() });
  unreachable.add(down);
  down.queue('nowhere');
  const w = down.worker('nowhere', async () => undefined);
  let t0 = Date.now();
  await w.start();
  t.true(Date.now() - t0 < 5_000, `start took ${Date.now() - t0} ms`);
  t0 = Date.now();
  await w.stop();
  await down.close();
  t.true(Date.now() - t0 < 3_000, `stop + close took ${Date.now() - t0} ms`);
});
