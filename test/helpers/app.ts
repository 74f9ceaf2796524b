import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeApp, type BoxofficeApp } from '../../src/compose.ts';
import { loadConfig } from '../../src/platform/config.ts';
import type { FlagName } from '../../src/platform/flag-names.ts';
import type { Logger } from '../../src/platform/logger.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { setFlag, unleashTestEnv, waitForFlag } from './unleash.ts';

export interface TestApp {
  app: BoxofficeApp;
  url: string;
  db: TestDatabase;
  env: Record<string, string>;
  /** flip a flag for this app only, through the real Unleash, and wait until the app sees it */
  setFlag(name: FlagName, value: boolean): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string>;
  /** reuse a database (e.g. two apps on one database); otherwise a fresh one is made and dropped */
  db?: TestDatabase;
  /** connect to the test Unleash so flags can be flipped live */
  unleash?: boolean;
  start?: boolean;
  /** the app's logger (e.g. one that captures lines, test/helpers/log-capture.ts) */
  logger?: Logger;
  /** listen here (e.g. a port another process was already told); default: any free port */
  port?: number;
}

export const TEST_INTERNAL_API_SECRET = 'test-internal-api-secret-0123456789abcdef';

/**
 * The profile test apps run on: `full` (the local Redis and RabbitMQ), or `postgres` when a file in
 * test/postgres-profile/ sets TEST_BACKEND before importing a suite — the same tests, BACKEND=postgres.
 */
export const testBackend = (): 'full' | 'postgres' => (process.env['TEST_BACKEND'] === 'postgres' ? 'postgres' : 'full');

/** Compose, start and listen on a random port, on a database and Redis key prefix of its own. */
export async function startTestApp(options: StartOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const keysDir = await mkdtemp(join(tmpdir(), 'bo-keys-'));
  const appName = `bo-test-${randomBytes(6).toString('hex')}`;
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    DB_POOL_MAX: '4',
    REDIS_KEY_PREFIX: `${appName}:`,
    JWT_KEYS_DIR: keysDir,
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // one deployment's shared secret: test apps that call each other (split modules) must agree on it
    INTERNAL_API_SECRET: TEST_INTERNAL_API_SECRET,
    // every test request comes from 127.0.0.1, so files that register many users would share one budget;
    // test/modules/auth/registration-throttle.test.ts sets its own
    REGISTER_MAX_PER_IP: '0',
    // scheduled reconciliation and the READ_NEW watchdog have tests of their own (test/migration/reconcile-*.test.ts)
    RECONCILE_INTERVAL_MS: '0',
    AUTO_ROLLBACK_CHECK_MS: '0',
    ...(options.unleash
      ? {
          UNLEASH_URL: unleashTestEnv().url,
          UNLEASH_API_TOKEN: unleashTestEnv().clientToken,
          UNLEASH_APP_NAME: appName,
          UNLEASH_REFRESH_INTERVAL_MS: '200',
        }
      : {}),
    // a Postgres-only app holds more connections (dispatcher lanes, the job pool): smaller pools keep
    // parallel test files under the server's max_connections
    ...(testBackend() === 'postgres' ? { BACKEND: 'postgres', DB_POOL_MAX: '3' } : {}),
    ...options.env,
  };
  const app = await composeApp(loadConfig(env), options.logger ? { logger: options.logger } : {});
  if (options.unleash && !(await app.flags.waitUntilSynchronized(15_000))) {
    throw new Error('the test app did not synchronize with Unleash');
  }
  if (options.start !== false) await app.start();
  const server = await app.listen(options.port ?? 0, '127.0.0.1');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  let stopped = false;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    db,
    env,
    async setFlag(name, value) {
      await setFlag(name, env['UNLEASH_APP_NAME'] ?? appName, value);
      await waitForFlag(app.flags, name, value);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await app.stop();
      await rm(keysDir, { recursive: true, force: true });
      if (!options.db) await db.drop();
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** JSON request helper: parses JSON and problem+json bodies, returns text otherwise. */
export async function api<T = any>(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.raw !== undefined ? { body: options.raw } : options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') && text ? JSON.parse(text) : text;
  return { status: res.status, headers: res.headers, body: body as T };
}

let counter = 0;
/** A unique, valid registration. */
export function newUser(prefix = 'user') {
  counter++;
  return {
    email: `${prefix}-${randomBytes(4).toString('hex')}-${counter}@example.com`,
    password: `Str0ng-pass-${randomBytes(3).toString('hex')}`,
    full_name: `Test ${prefix} ${counter}`,
  };
}

/** Register and log in; returns the tokens and the user. */
export async function registerAndLogin(base: string, prefix = 'user') {
  const user = newUser(prefix);
  const reg = await api(base, 'POST', '/api/v1/auth/register', { body: user });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.body)}`);
  const login = await api(base, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { user, id: reg.body.id as string, access: login.body.access_token as string, refresh: login.body.refresh_token as string };
}
