/**
 * `npm test`: checks the servers the tests talk to, starts a throwaway Unleash, then runs
 *   1. the main suite (parallel; each file works in its own database / key prefix), and
 *   2. the disruptive suite (serial; stops or flushes shared servers and restores them).
 *
 *   npm test                         # everything
 *   npm test -- test/platform        # only matching main-suite files (disruptive ones only if named)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = fileURLToPath(new URL('..', import.meta.url));
const PG_ADMIN = process.env['TEST_PG_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const args = process.argv.slice(2);

function log(msg: string): void {
  process.stdout.write(`[test] ${msg}\n`);
}

function tcpReachable(host: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function checkServices(): Promise<void> {
  const missing: string[] = [];
  for (const [name, port] of [
    ['PostgreSQL', 5432],
    ['Redis', 6379],
    ['RabbitMQ', 5672],
  ] as const) {
    if (!(await tcpReachable('127.0.0.1', port))) missing.push(`${name} (127.0.0.1:${port})`);
  }
  if (missing.length) {
    throw new Error(`not reachable: ${missing.join(', ')} — start them (bash .ci/run does) and run again`);
  }
}

/** Test databases are named bo_t_<epoch>_<rand>; drop the ones a crashed run left behind. */
async function dropStaleDatabases(): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'bo\\_t\\_%' OR datname LIKE 'bo\\_unleash\\_%'`,
    );
    const cutoff = Date.now() / 1000 - 2 * 3600;
    for (const { datname } of rows) {
      const epoch = Number(/^bo_(?:t|unleash)_(\d+)_/.exec(datname)?.[1] ?? 0);
      if (epoch < cutoff) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

interface UnleashHandle {
  url: string;
  child: ChildProcess;
  database: string;
}

async function startUnleash(): Promise<UnleashHandle> {
  const port = await freePort();
  const database = `bo_unleash_${Math.floor(Date.now() / 1000)}_${process.pid}`;
  const child = spawn(process.execPath, ['ops/unleash/server.ts'], {
    cwd: root,
    env: {
      ...process.env,
      UNLEASH_PORT: String(port),
      UNLEASH_DATABASE_URL: PG_ADMIN.replace(/\/[^/]*$/, `/${database}`),
      UNLEASH_RESET: 'true',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`unleash exited during start-up:\n${output}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return { url, child, database };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`unleash did not start within 90 s:\n${output}`);
}

async function stopUnleash(handle: UnleashHandle): Promise<void> {
  handle.child.kill('SIGTERM');
  await new Promise((r) => {
    const timer = setTimeout(() => {
      handle.child.kill('SIGKILL');
      r(undefined);
    }, 5_000);
    handle.child.once('exit', () => {
      clearTimeout(timer);
      r(undefined);
    });
  });
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${handle.database}" WITH (FORCE)`).catch(() => undefined);
  await admin.end();
}

/**
 * Test runs on one machine share a lock: the main suite takes it shared, the disruptive suite
 * exclusive, so a suite that stops Redis or RabbitMQ never runs under another run's feet.
 */
const LOCK = process.env['BOXOFFICE_TEST_LOCK'] ?? '/tmp/boxoffice-tests.lock';

/**
 * A suite that has not finished within this bound is killed and fails: ava's own timeout watches for
 * silence across all files, so one file stuck in a hook while others report would otherwise hang CI.
 */
const SUITE_TIMEOUT_MS = Number(process.env['TEST_SUITE_TIMEOUT_MS'] ?? 25 * 60_000);

function runAva(extraArgs: string[], env: NodeJS.ProcessEnv, lock: 'shared' | 'exclusive'): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('flock', [lock === 'shared' ? '-s' : '-x', LOCK, process.execPath, 'node_modules/ava/entrypoints/cli.js', ...extraArgs], {
      cwd: root,
      env,
      stdio: 'inherit',
      detached: true,
    });
    const timer = setTimeout(() => {
      log(`the suite did not finish within ${Math.round(SUITE_TIMEOUT_MS / 1000)} s (TEST_SUITE_TIMEOUT_MS): killing it — a test or hook never settled`);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, SUITE_TIMEOUT_MS);
    // its own process group (so a timeout kills ava's workers too): pass on an interrupt of ours
    const forward = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    };
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward).off('SIGTERM', forward);
      clearTimeout(timer);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

const started = Date.now();
await checkServices();
await dropStaleDatabases();
log('starting a throwaway Unleash server');
const unleash = await startUnleash();
log(`unleash up at ${unleash.url} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
const env: NodeJS.ProcessEnv = {
  ...process.env,
  UNLEASH_TEST_URL: `${unleash.url}/api`,
  UNLEASH_TEST_ADMIN_TOKEN: '*:*.boxoffice-dev-admin-token',
  UNLEASH_TEST_CLIENT_TOKEN: 'default:development.boxoffice-dev-client-token',
};

let status = 0;
try {
  const wantsDisruptive = args.length === 0 || args.some((a) => a.includes('disruptive'));
  const mainArgs = args.filter((a) => !a.includes('disruptive'));
  if (args.length === 0 || mainArgs.length > 0) {
    log('main suite');
    status = await runAva(mainArgs, env, 'shared');
  }
  if (wantsDisruptive) {
    log('disruptive suite (serial; stops and restores shared servers)');
    const code = await runAva(['--config', 'ava.disruptive.config.js', ...args.filter((a) => a.includes('disruptive'))], env, 'exclusive');
    status = status || code;
  }
} finally {
  await stopUnleash(unleash);
}
log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${status}`);
process.exit(status);
