import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { raceDeadline } from '../../src/platform/deadline.ts';
import { TEST_INTERNAL_API_SECRET } from './app.ts';
import { waitFor } from './events.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A port nobody listens on right now (a process started later takes it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** the TCP ports process `pid` listens on (Linux: its socket inodes in /proc/<pid>/fd, looked up in /proc/net/tcp*) */
async function listeningPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const socket = /^socket:\[(\d+)\]$/.exec(await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''));
    if (socket) inodes.add(socket[1]!);
  }
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8').catch(() => '')).split('\n').slice(1)) {
      // sl local_address rem_address st … inode; st 0A is LISTEN
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9] ?? '')) ports.push(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

export interface ChildApp {
  url: string;
  port: number;
  /** its JSON log lines so far (stdout) */
  lines: Record<string, unknown>[];
  process: ChildProcess;
  stop(): Promise<void>;
  /** for a failing test's log: how the process stands (running or how it ended), its last log lines and stderr */
  describe(): string;
}

/**
 * `node src/main.ts` in a process of its own (a second deployment of the same image), on `options.port` or
 * a port of its own choosing, ready once it listens and /health/ready answers 200. Its log lines are
 * collected for the test to read.
 */
export async function startChildApp(env: Record<string, string>, options: { port?: number; readyWithinMs?: number } = {}): Promise<ChildApp> {
  // the process takes a port of the kernel's choosing (0) and this finds which (`listeningPorts`): a port
  // found free here and closed again can be taken by another test's server before the child listens on it.
  // (A child that also serves METRICS_PORT listens twice: give it its port.)
  const asked = options.port ?? 0;
  const keysDir = await mkdtemp(join(tmpdir(), 'bo-child-keys-'));
  const full: Record<string, string> = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(asked),
    JWT_KEYS_DIR: keysDir,
    INTERNAL_API_SECRET: TEST_INTERNAL_API_SECRET,
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: '5000',
    REGISTER_MAX_PER_IP: '0',
    RECONCILE_INTERVAL_MS: '0',
    AUTO_ROLLBACK_CHECK_MS: '0',
    DB_POOL_MAX: '4',
    ...env,
  };
  const child = spawn(process.execPath, ['src/main.ts'], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...full }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      lines.push({ raw: line });
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4_000)));
  let port = asked;
  let url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      // a process that does not drain within its bound is killed
      if (!(await raceDeadline(exited, 10_000)).done) child.kill('SIGKILL');
    }
    await rm(keysDir, { recursive: true, force: true });
  };
  const what = full['MODULES'] ?? 'all modules';
  const deadline = Date.now() + (options.readyWithinMs ?? 60_000);
  const ended = () => (child.exitCode !== null || child.signalCode !== null ? new Error(`the process ended (${child.exitCode ?? child.signalCode}) while starting: ${stderr}${JSON.stringify(lines.slice(-5))}`) : undefined);
  try {
    // only once this process holds the port is an answer on it this process's answer
    const listening = await waitFor(`${what} listening`, async () => ended() ?? ((await listeningPorts(child.pid!)).find((p) => asked === 0 || p === asked)), Math.max(0, deadline - Date.now()), 100);
    if (listening instanceof Error) throw listening;
    port = listening;
    url = `http://127.0.0.1:${port}`;
    const ready = await waitFor(`${what} ready at ${url}`, async () =>
      ended() ?? ((await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) || undefined), Math.max(0, deadline - Date.now()), 100);
    if (ready instanceof Error) throw ready;
  } catch (err) {
    await stop();
    throw err;
  }
  const describe = () =>
    `${url} pid ${child.pid} ${child.exitCode !== null ? `exited ${child.exitCode}` : child.signalCode ? `killed by ${child.signalCode}` : 'running'}; last lines: ${JSON.stringify(lines.slice(-8))}; stderr: ${stderr.slice(-1_000)}`;
  return { url, port, lines, process: child, stop, describe };
}
