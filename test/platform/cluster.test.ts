import { once } from 'node:events';
import test from 'ava';
import { startChildApp, type ChildApp } from '../helpers/child-app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/events.ts';

/**
 * WEB_CONCURRENCY=2 (issue 13): one `node src/main.ts` runs two web processes on one port and one worker
 * process. /metrics, on whichever web process a scrape lands, counts every process's requests; the
 * relays and consumers start once; a process that dies is replaced; SIGTERM stops them all cleanly.
 */
let db: TestDatabase;
let app: ChildApp;
test.before(async () => {
  db = await createTestDatabase();
  app = await startChildApp({ DATABASE_URL: db.url, WEB_CONCURRENCY: '2', REDIS_KEY_PREFIX: `cluster-${process.pid}:` });
});
test.after.always(async () => {
  await app?.stop();
  await db?.drop();
});

const started = () => app.lines.filter((l) => l['msg'] === 'boxoffice started');

test.serial('two web processes and one worker process; the workers (relays, consumers, sweepers) start in one process only', async (t) => {
  await waitFor('three processes started', () => started().length >= 3 || undefined);
  const roles = started().map((l) => l['role']).sort();
  t.deepEqual(roles, ['web', 'web', 'worker']);
  const workerPids = new Set(app.lines.filter((l) => l['msg'] === 'worker started').map((l) => l['pid']));
  t.is(workerPids.size, 1, 'background work runs in one process');
  t.is(workerPids.values().next().value, started().find((l) => l['role'] === 'worker')!['pid']);
  // a process logs 'listening' after 'boxoffice started': wait for both web processes to get there
  const listeners = () => new Set(app.lines.filter((l) => l['msg'] === 'listening').map((l) => l['pid']));
  await waitFor('both web processes listening', () => listeners().size >= 2 || undefined);
  const webPids = new Set(started().filter((l) => l['role'] === 'web').map((l) => l['pid']));
  t.deepEqual(listeners(), webPids, 'only the web processes listen');
});

test.serial('/metrics sums every process: 40 requests spread over the web processes are 40 in one scrape', async (t) => {
  for (let i = 0; i < 40; i++) t.is((await fetch(`${app.url}/api/v1/movies?limit=1`)).status, 200);
  for (let i = 0; i < 3; i++) {
    // each scrape may land on either web process; each must show the whole cluster
    const text = await (await fetch(`${app.url}/metrics`)).text();
    const m = /http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/movies",status="200"\} (\d+)/.exec(text);
    t.is(Number(m?.[1]), 40, text.slice(0, 200));
  }
});

test.serial('a web process that dies is replaced and the port keeps answering; SIGTERM stops every process cleanly', async (t) => {
  const webPid = Number(started().find((l) => l['role'] === 'web')!['pid']);
  process.kill(webPid, 'SIGKILL');
  await waitFor('a replacement web process', () => started().filter((l) => l['role'] === 'web').length >= 3 || undefined, 30_000);
  t.true(app.lines.some((l) => l['msg'] === 'a cluster process died: starting another' && l['role'] === 'web'));
  for (let i = 0; i < 10; i++) t.is((await fetch(`${app.url}/health`)).status, 200);

  const pids = started().map((l) => Number(l['pid'])).filter((pid) => pid !== webPid);
  app.process.kill('SIGTERM');
  const [code] = await once(app.process, 'exit');
  t.is(code, 0, 'every process stopped within its shutdown time');
  for (const pid of pids) t.throws(() => process.kill(pid, 0), undefined, `process ${pid} is gone`);
});
