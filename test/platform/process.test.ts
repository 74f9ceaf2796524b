import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { freePort } from '../helpers/child-app.ts';
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

// start-up on a shared 2-core machine in the middle of the suite can take a while
const answers = (url: string) => waitFor(url, async () => (await fetch(url)).ok, 60_000, 100);

test('a bad variable stops start-up with exit 1 and a message naming it', async (t) => {
  const p = start({ PORT: 'eighty' });
  t.is(await p.exited, 1);
  t.regex(p.output(), /invalid configuration: PORT:/);
  const m = start({ MODULES: 'auth,tickets' });
  t.is(await m.exited, 1);
  t.regex(m.output(), /MODULES: unknown module\(s\) tickets/);
});

test('SIGTERM while a request is in flight: it completes, new connections are refused, exit 0 within the bound', async (t) => {
  const port = await freePort();
  const p = start({ PORT: String(port), SHUTDOWN_TIMEOUT_MS: '8000' });
  await answers(`http://127.0.0.1:${port}/health/startup`);
  // a login whose body is only half sent is certainly in flight when the signal lands
  const body = JSON.stringify({ email: 'nobody@example.com', password: 'Wr0ng-password' });
  const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/auth/login', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } });
  const answered = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, 10));
  // the scrape is in flight itself: a second request is the login
  await waitFor('the login in flight', async () => /^http_requests_in_flight 2$/m.test(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()));
  const t0 = Date.now();
  p.child.kill('SIGTERM');
  await waitFor('the port closed for the drain', () => p.output().includes('"msg":"draining'));
  await t.throwsAsync(fetch(`http://127.0.0.1:${port}/health`), undefined, 'no new connections while draining');
  req.end(body.slice(10));
  t.is(await answered, 401, 'the in-flight request finished normally');
  t.is(await p.exited, 0);
  t.true(Date.now() - t0 < 8000);
  t.regex(p.output(), /"clean":true/);
});
