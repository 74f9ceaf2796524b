/**
 * The service as its clients see it: `node src/main.ts` in a child process of its own, on a database of
 * the bench's. Benchmarks drive it over HTTP from their own process, so the load generator never shares
 * the service's event loop (which would hide the service's own cost).
 * BENCH_CPU_PROF=<dir> makes each service write a CPU profile to <dir> when it stops.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import pg from 'pg';
import { activeKey, goodClaims, signRs256 } from '../test/helpers/tokens.ts';

const ROOT = new URL('..', import.meta.url).pathname;

export interface Service {
  url: string;
  env: Record<string, string>;
  /** CPU time (user + system) the service process has used so far, in ms (Linux /proc; NaN elsewhere) */
  cpuMs(): number;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startService(databaseUrl: string, env: Record<string, string> = {}, options: { port?: number } = {}): Promise<Service> {
  const port = options.port ?? (await freePort());
  const keys = await mkdtemp(join(tmpdir(), 'bo-bench-keys-'));
  const full: Record<string, string> = {
    NODE_ENV: 'development',
    // the local Redis and RabbitMQ at their default addresses, unless a bench asks for BACKEND=postgres
    BACKEND: 'full',
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_KEYS_DIR: keys,
    REDIS_KEY_PREFIX: `bench-${randomBytes(4).toString('hex')}:`,
    LOG_LEVEL: 'warn',
    ...env,
  };
  // BENCH_CPU_PROF=<dir>: the service writes a V8 CPU profile there when it stops (node --cpu-prof)
  const prof = process.env['BENCH_CPU_PROF'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_CPU_PROF']}`] : [];
  const child: ChildProcess = spawn(process.execPath, [...prof, 'src/main.ts'], { cwd: ROOT, env: { ...process.env, ...full }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`service exited at start: ${stderr}`);
    const ok = await fetch(`${url}/health/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`service not ready in 60 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    env: full,
    cpuMs() {
      try {
        // utime and stime, in clock ticks (100 per second on Linux), after the command name
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        return (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        return NaN;
      }
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(keys, { recursive: true, force: true });
    },
  };
}

/** An admin's access token: the CLI creates the account, the service signs the admin in. */
export async function adminLogin(service: Service): Promise<string> {
  const email = `bench-admin-${randomBytes(3).toString('hex')}@example.com`;
  const password = `Adm1n-${randomBytes(6).toString('hex')}`;
  const r = spawnSync(process.execPath, ['src/cli/main.ts', 'users', 'create-admin', '--email', email, '--password', password], { cwd: ROOT, env: { ...process.env, ...service.env } });
  if (r.status !== 0) throw new Error(`create-admin: ${r.stderr}`);
  const login = await fetch(`${service.url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  return ((await login.json()) as { access_token: string }).access_token;
}

/** Users without password hashing: rows in the legacy users table, tokens signed with the service's key. */
export async function forgeUsers(service: Service, n: number): Promise<{ id: string; token: string }[]> {
  const key = activeKey(service.env['JWT_KEYS_DIR']!);
  const users = Array.from({ length: n }, () => {
    const id = randomUUID();
    const email = `u-${id.slice(0, 8)}@example.com`;
    return { id, email, token: signRs256({ kid: key.kid }, goodClaims(id, email, { exp: Math.floor(Date.now() / 1000) + 3600 }), key.privateKey) };
  });
  const client = new pg.Client({ connectionString: service.env['DATABASE_URL'] });
  await client.connect();
  try {
    for (const u of users) await client.query(`INSERT INTO public.users (id, email, hashed_password, full_name) VALUES ($1, $2, 'x', 'Bench')`, [u.id, u.email]);
  } finally {
    await client.end();
  }
  return users;
}

export interface Timed {
  status: number;
  ms: number;
}

/** One HTTP request on a keep-alive agent, timed. */
export function timedRequest(agent: Agent, base: string, method: string, path: string, token?: string, body?: unknown): Promise<Timed> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), {
      method,
      agent,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

export interface Driven {
  ok: number;
  failed: number;
  /** statuses of the failed requests */
  failures: Record<number, number>;
  seconds: number;
  /** of the successful requests */
  latencies: number[];
}

/**
 * `clients` concurrent clients on one keep-alive agent make `n` requests between them (client c makes
 * requests c, c + clients, …); `expected` is the status that counts as success.
 */
export async function drive(clients: number, n: number, expected: number, request: (agent: Agent, client: number, i: number) => Promise<Timed>): Promise<Driven> {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const result: Driven = { ok: 0, failed: 0, failures: {}, seconds: 0, latencies: [] };
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = c; i < n; i += clients) {
      const r = await request(agent, c, i);
      if (r.status === expected) {
        result.ok++;
        result.latencies.push(r.ms);
      } else {
        result.failed++;
        result.failures[r.status] = (result.failures[r.status] ?? 0) + 1;
      }
    }
  }));
  result.seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return result;
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** A, B, …, Z, AA, AB, …: row labels as the API takes them (1–3 capital letters) */
const rowLabel = (i: number): string => (i < 26 ? LETTERS[i]! : `${LETTERS[Math.floor(i / 26) - 1]!}${LETTERS[i % 26]!}`);

async function post(service: Service, token: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(`${service.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await r.json()) as Record<string, unknown>;
  if (r.status !== 201) throw new Error(`POST ${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

/** A movie, a theater of rows × perRow seats and `showtimes` showtimes of it in the future, over the HTTP API. */
export async function createCatalog(service: Service, admin: string, options: { rows: number; perRow: number; showtimes?: number }): Promise<{ showtimeIds: string[]; seatIds: string[] }> {
  const tag = randomBytes(4).toString('hex');
  const movie = await post(service, admin, '/api/v1/movies', { title: `Bench ${tag}`, duration_minutes: 120, genre: 'Drama' });
  const layout = { rows: Array.from({ length: options.rows }, (_, i) => ({ row: rowLabel(i), seats: options.perRow })) };
  const theater = await post(service, admin, '/api/v1/theaters', { name: `Screen ${tag}`, city: 'Hanoi', layout });
  const showtimeIds: string[] = [];
  for (let i = 0; i < (options.showtimes ?? 1); i++) {
    const start = new Date(Date.now() + 48 * 3600_000 + Math.floor(Math.random() * 1e6) * 60_000);
    const st = await post(service, admin, '/api/v1/showtimes', { movie_id: movie['id'], theater_id: theater['id'], start_time: start.toISOString(), base_price: '90000' });
    showtimeIds.push(st['id'] as string);
  }
  return { showtimeIds, seatIds: (theater['seats'] as { id: string }[]).map((s) => s.id) };
}

const SAGA_FLAGS = ['publish_booking_events', 'publish_payment_events', 'publish_seat_events', 'use_payment_events', 'consume_booking_events', 'use_booking_snapshot', 'use_per_seat_locks', 'use_rs256_tokens', 'use_local_jwt'];

/**
 * A service with the saga's flags on, own stores and pending caps out of the way (bench/saga-latency,
 * bench/profiles): the full stack on `amqpUrl`'s broker, or BACKEND=postgres without one.
 */
export function sagaEnv(amqpUrl: string | undefined): Record<string, string> {
  return {
    ...(amqpUrl ? { AMQP_URL: amqpUrl } : { BACKEND: 'postgres' }),
    FLAGS_BOOTSTRAP: SAGA_FLAGS.map((f) => `${f}=true`).join(','),
    STORE_MOVIE: 'own', STORE_BOOKING: 'own', STORE_PAYMENT: 'own',
    BOOKING_MAX_PENDING_BOOKINGS: '1000', BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME: '1000',
    RECONCILE_INTERVAL_MS: '0', AUTO_ROLLBACK_CHECK_MS: '0',
  };
}
