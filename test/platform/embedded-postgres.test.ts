import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { newUser } from '../helpers/app.ts';
import { waitFor } from '../helpers/events.ts';
import { SAGA_FLAGS } from '../modules/booking/saga-scenarios.ts';

/**
 * Issue 12: `npm start` with no DATABASE_URL, REDIS_URL or AMQP_URL serves from the embedded PostgreSQL
 * on BACKEND=postgres (events, jobs, throttles in its tables), keeps its data between runs, and the CLI
 * finds the same cluster whether the server runs or not. As root (CI, containers) it runs inside a
 * network namespace with only loopback, which proves nothing else is needed.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

function netns(): string | undefined {
  if (userInfo().uid !== 0) return undefined;
  const name = `bo-zero-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', name], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'], { stdio: 'ignore' });
    return name;
  } catch {
    return undefined;
  }
}

const ns = netns();
let dataDir: string;
const children = new Set<ChildProcess>();

test.before(async () => {
  // 0700, as JWT_KEYS_DIR leaves .data: as root the server's user must still get through to .data/pg
  dataDir = await mkdtemp(join(tmpdir(), 'bo-zero-'));
});

test.after.always(() => {
  for (const c of children) c.kill('SIGKILL');
  // a cluster left by a failed run: Postgres's immediate shutdown
  let pid = 0;
  try {
    pid = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGQUIT');
  } catch {
    // none running
  }
});

test.after.always(async () => {
  if (ns) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  await rm(dataDir, { recursive: true, force: true });
});

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(DATABASE_URL|DATABASE_ADMIN_URL|REDIS_URL|AMQP_URL|BACKEND|EVENTS_TRANSPORT|MODULES|UNLEASH_.*|.*_DATABASE_URL|.*_REDIS_URL|REDIS_SENTINELS)$/.test(key)) delete env[key];
  }
  return {
    ...env,
    NODE_ENV: 'development',
    BOXOFFICE_DATA_DIR: dataDir,
    JWT_KEYS_DIR: join(dataDir, 'keys'),
    HOST: '127.0.0.1',
    PORT: '8000',
    LOG_LEVEL: 'info',
    // the saga's flags on: booking → payment → confirmation travels as events, notifications as jobs
    FLAGS_BOOTSTRAP: [...SAGA_FLAGS, 'use_booking_snapshot', 'publish_user_events'].map((f) => `${f}=true`).join(','),
    ...extra,
  };
}

const command = (args: string[]): [string, string[]] => (ns ? ['ip', ['netns', 'exec', ns, process.execPath, ...args]] : [process.execPath, args]);

function startServer(env = cleanEnv()) {
  const [file, args] = command(['src/main.ts']);
  const child = spawn(file, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (children.delete(child), resolve(code))));
  return { child, exited, output: () => output };
}

/** An HTTP call from inside the namespace (the server listens there), or from here. */
async function http(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const init = { method, headers: { 'content-type': 'application/json', ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
  const script = `const r = await fetch('http://127.0.0.1:8000${path}', ${JSON.stringify(init)}); process.stdout.write(JSON.stringify({ status: r.status, body: await r.json().catch(() => null) }));`;
  const [file, args] = command(['--input-type=module', '-e', script]);
  const { stdout } = await run(file, args, { cwd: ROOT });
  return JSON.parse(stdout) as { status: number; body: any };
}

async function cli(...args: string[]) {
  const [file, argv] = command(['src/cli/main.ts', ...args]);
  try {
    const { stdout, stderr } = await run(file, argv, { cwd: ROOT, env: cleanEnv({ LOG_LEVEL: 'warn' }) });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const postmasterRunning = () => existsSync(join(dataDir, 'pg', 'postmaster.pid'));

test.serial('npm start with nothing configured: ready, serves, keeps its data; the CLI finds the same cluster', async (t) => {
  t.log(ns ? `in network namespace ${ns} (loopback only)` : 'no network namespace (not root or `ip netns` refused): the local Redis and RabbitMQ are there, but nothing is configured to use them');
  const first = startServer();
  const ready = await waitFor('the first /health/ready 200', async () => {
    const r = await http('GET', '/health/ready').catch(() => undefined);
    return r?.status === 200 ? r : undefined;
  }, 90_000, 250);
  t.is(ready.body.checks.postgres.status, 'ok');
  t.like(ready.body.profile, { backend: 'postgres', events: 'postgres', jobs: 'postgres' });
  t.deepEqual(ready.body.degraded, [], 'nothing missing: the profile uses only PostgreSQL');
  t.deepEqual(Object.keys(ready.body.checks).filter((c) => /redis|rabbitmq/.test(c)), []);
  t.regex(first.output(), /embedded PostgreSQL: data in .*bo-zero-.*\/pg/);
  t.regex(first.output(), /set DATABASE_URL=/);

  const user = newUser('zero');
  t.is((await http('POST', '/api/v1/auth/register', user)).status, 201);
  const login = await http('POST', '/api/v1/auth/login', { email: user.email, password: user.password });
  t.is(login.status, 200);
  const auth = { authorization: `Bearer ${login.body.access_token as string}` };

  // the CLI connects to the running server's cluster (it does not start a second one)
  const seed = await cli('seed', 'demo');
  t.is(seed.code, 0, seed.stderr);
  t.notRegex(seed.stderr, /started for this command/);
  t.regex(seed.stdout, /demo catalog/);

  // book and pay: the seats are decided by the database, payment.completed confirms the booking (the saga)
  const showtimes = await http('GET', '/api/v1/showtimes?limit=1');
  const showtime = (showtimes.body.items ?? showtimes.body)[0] as { id: string };
  const seats = (await http('GET', `/api/v1/showtimes/${showtime.id}/seats`)).body as { seat_id: string; status: string }[];
  const booking = await http('POST', '/api/v1/bookings', { showtime_id: showtime.id, seat_ids: seats.filter((s) => s.status === 'available').slice(0, 2).map((s) => s.seat_id) }, auth);
  t.is(booking.status, 201, JSON.stringify(booking.body));
  const payment = await http('POST', '/api/v1/payments', { booking_id: booking.body.id, payment_method: { type: 'card', token: 'tok_success' } }, { ...auth, 'idempotency-key': `zero-${process.pid}` });
  t.is(payment.status, 201, JSON.stringify(payment.body));
  await waitFor('the booking confirmed', async () => (await http('GET', `/api/v1/bookings/${booking.body.id as string}`, undefined, auth)).body.status === 'confirmed', 20_000, 250);
  // the welcome and booking notifications went through the job queue in Postgres
  await waitFor('the notifications sent', async () => {
    const items = (await http('GET', '/api/v1/notifications', undefined, auth)).body.items as { status: string }[];
    return items.length >= 2 && items.every((n) => n.status === 'sent');
  }, 30_000, 250);

  first.child.kill('SIGINT');
  t.is(await first.exited, 0, first.output().slice(-2_000));
  t.false(postmasterRunning(), 'stopping the app stops the cluster it started');

  // with the server stopped, the CLI starts the cluster for the command and stops it after
  const stopped = await cli('users', 'create-admin', '--email', user.email, '--password', user.password);
  t.is(stopped.code, 0, stopped.stderr);
  t.regex(stopped.stderr, /started for this command/);
  t.regex(stopped.stdout, new RegExp(`promoted admin ${user.email}`));
  t.false(postmasterRunning());

  const second = startServer();
  await waitFor('the second /health/ready 200', async () => (await http('GET', '/health/ready').catch(() => undefined))?.status === 200, 60_000, 250);
  const again = await http('POST', '/api/v1/auth/login', { email: user.email, password: user.password });
  t.is(again.status, 200, 'the user registered in the first run is still there');
  const kept = await http('GET', `/api/v1/bookings/${booking.body.id as string}`, undefined, { authorization: `Bearer ${again.body.access_token as string}` });
  t.is(kept.body.status, 'confirmed', 'and so is the booking');
  second.child.kill('SIGINT');
  t.is(await second.exited, 0);
});

test.serial('production without DATABASE_URL is a start-up error naming it (no embedded cluster)', async (t) => {
  const p = startServer(cleanEnv({ NODE_ENV: 'production', BOXOFFICE_DATA_DIR: join(dataDir, 'prod') }));
  t.is(await p.exited, 1);
  t.regex(p.output(), /DATABASE_URL: is required when NODE_ENV=production/);
  t.false(existsSync(join(dataDir, 'prod')));
});
