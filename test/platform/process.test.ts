import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { startChildApp } from '../helpers/child-app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/events.ts';

let db: TestDatabase;
let keysDir: string;
test.before(async () => {
  db = await createTestDatabase();
  keysDir = await mkdtemp(join(tmpdir(), 'bo-proc-'));
});
// a test that fails half-way must not leave its app running (it holds the database open)
const children = new Set<ReturnType<typeof spawn>>();
test.after.always(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await db?.drop();
  await rm(keysDir, { recursive: true, force: true });
});

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['src/main.ts'], {
    env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: db.url, JWT_KEYS_DIR: keysDir, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

test('a bad variable stops start-up with exit 1 and a message naming it', async (t) => {
  const p = start({ PORT: 'eighty' });
  t.is(await p.exited, 1);
  t.regex(p.output(), /invalid configuration: PORT:/);
  const m = start({ MODULES: 'auth,tickets' });
  t.is(await m.exited, 1);
  t.regex(m.output(), /MODULES: unknown module\(s\) tickets/);
});

test('SIGTERM while a request is in flight: it completes, new connections are refused, exit 0 within the bound', async (t) => {
  const app = await startChildApp({ DATABASE_URL: db.url, SHUTDOWN_TIMEOUT_MS: '8000' });
  try {
    // a login whose body is only half sent is certainly in flight when the signal lands
    const body = JSON.stringify({ email: 'nobody@example.com', password: 'Wr0ng-password' });
    const req = request({ host: '127.0.0.1', port: app.port, method: 'POST', path: '/api/v1/auth/login', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, 10));
    // the scrape is in flight itself: a second request is the login
    await waitFor('the login in flight', async () => /^http_requests_in_flight 2$/m.test(await (await fetch(`${app.url}/metrics`)).text()));
    // 'close': the process has ended and its output is all read
    const closed = once(app.process, 'close');
    const t0 = Date.now();
    app.process.kill('SIGTERM');
    await waitFor('the port closed for the drain', () => app.lines.some((l) => String(l['msg']).startsWith('draining')));
    await t.throwsAsync(fetch(`${app.url}/health`), undefined, 'no new connections while draining');
    req.end(body.slice(10));
    t.is(await answered, 401, 'the in-flight request finished normally');
    t.is((await closed)[0], 0);
    t.true(Date.now() - t0 < 8000);
    t.true(app.lines.some((l) => l['clean'] === true));
  } finally {
    await app.stop();
  }
});
