import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
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
 * `node src/main.ts` in a process of its own (a second deployment of the same image), listening on
 * `port`, ready once /health/ready answers 200. Its log lines are collected for the test to read.
 */
export async function startChildApp(env: Record<string, string>, options: { port?: number; readyWithinMs?: number } = {}): Promise<ChildApp> {
  const port = options.port ?? (await freePort());
  const keysDir = await mkdtemp(join(tmpdir(), 'bo-child-keys-'));
  const full: Record<string, string> = {
    NODE_ENV: 'test',
    HOST: '127.0.0.1',
    PORT: String(port),
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
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      // a process that does not drain within its bound is killed
      if (!(await raceDeadline(exited, 10_000)).done) child.kill('SIGKILL');
    }
    await rm(keysDir, { recursive: true, force: true });
  };
  try {
    await waitFor(`${full['MODULES'] ?? 'all modules'} ready at ${url}`, async () => {
      if (child.exitCode !== null) throw new Error(`the process exited (${child.exitCode}) while starting: ${stderr}${JSON.stringify(lines.slice(-5))}`);
      return (await fetch(`${url}/health/ready`).then((r) => r.ok, () => false)) || undefined;
    }, options.readyWithinMs ?? 60_000, 100);
  } catch (err) {
    await stop();
    throw err;
  }
  const describe = () =>
    `${url} pid ${child.pid} ${child.exitCode !== null ? `exited ${child.exitCode}` : child.signalCode ? `killed by ${child.signalCode}` : 'running'}; last lines: ${JSON.stringify(lines.slice(-8))}; stderr: ${stderr.slice(-1_000)}`;
  return { url, port, lines, process: child, stop, describe };
}
