import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { checkSecurityEnv, securityEnv } from './security-config.ts';

export { PRODUCTION_METRICS_PORT } from './security-config.ts';

/** Every module the monolith knows about, in dependency order (also the documented cutover order). */
export const MODULE_NAMES = ['auth', 'movie', 'booking', 'payment', 'notification'] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

/** The Postgres schema each module owns. */
export const MODULE_SCHEMAS: Record<ModuleName, string> = {
  auth: 'auth',
  movie: 'movies',
  booking: 'bookings',
  payment: 'payments',
  notification: 'notifications',
};

/** `routed`: the strangler routing store decides per call from the module's phase; `legacy` / `own` pin it. */
export type StoreSelection = 'routed' | 'legacy' | 'own';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const redisUrl = z
  .string()
  .url()
  .refine((u) => /^rediss?:\/\//.test(u), 'must be a redis:// or rediss:// URL');

const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*$/, 'must be a lower-case SQL identifier ([a-z_][a-z0-9_]*)');

const modulesList = z.string().transform((raw, ctx): ModuleName[] => {
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === 'all')) return [...MODULE_NAMES];
  const unknown = parts.filter((p) => !(MODULE_NAMES as readonly string[]).includes(p));
  if (unknown.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown module(s) ${unknown.join(', ')}; known: all, ${MODULE_NAMES.join(', ')}`,
    });
    return z.NEVER;
  }
  return MODULE_NAMES.filter((m) => parts.includes(m));
});

const storeSelection = z.enum(['routed', 'legacy', 'own']);

const postgresUrl = z
  .string()
  .url()
  .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// URL');

const fraction = z.coerce.number().min(0).max(1);

/** `1000,5000,30000`: back-off delays of the consumer's retry queues, one per attempt (the last repeats). */
const delayList = z.string().transform((raw, ctx): number[] => {
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const values = parts.map(Number);
  if (parts.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1 || v > 86_400_000)) {
    ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of 1..86400000 ms, e.g. 1000,5000,30000' });
    return z.NEVER;
  }
  return values;
});

const flagOverrides = z.string().transform((raw, ctx): Record<string, boolean> => {
  const out: Record<string, boolean> = {};
  for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z0-9_]+)=(true|false|on|off|1|0)$/.exec(part);
    if (!m) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not name=true|false` });
      return z.NEVER;
    }
    out[m[1]!] = m[2] === 'true' || m[2] === 'on' || m[2] === '1';
  }
  return out;
});

/**
 * The environment, validated. Each key is the variable's name so an error names exactly what to fix.
 * Defaults suit a developer machine; production sets NODE_ENV=production and the secrets.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: int(0, 65535).default(8000),
  HOST: z.string().min(1).default('0.0.0.0'),
  /** unset outside production: `npm start` and the CLI use the embedded PostgreSQL in .data/pg (ADR 0075) */
  DATABASE_URL: postgresUrl.default('postgres://postgres@127.0.0.1:5432/boxoffice'),
  /** `boxoffice migrate` only: a login that may create roles and schemas, when DATABASE_URL's may not */
  DATABASE_ADMIN_URL: postgresUrl.optional(),
  DB_POOL_MAX: int(1, 200).default(10),
  DB_ROLE_PREFIX: z
    .string()
    .regex(/^[a-z_][a-z0-9_]*$|^$/, 'must be empty or a lower-case SQL identifier prefix')
    .default('boxoffice_'),
  LEGACY_SCHEMA: identifier.default('public'),
  REDIS_URL: redisUrl.default('redis://127.0.0.1:6379'),
  /** a module's own Redis in a split deployment (its holds, caches, throttles, queues); REDIS_URL otherwise */
  AUTH_REDIS_URL: redisUrl.optional(),
  MOVIE_REDIS_URL: redisUrl.optional(),
  BOOKING_REDIS_URL: redisUrl.optional(),
  PAYMENT_REDIS_URL: redisUrl.optional(),
  NOTIFICATION_REDIS_URL: redisUrl.optional(),
  /** Redis Sentinel: host:port,… of the sentinels; the master's name. The URLs then give only credentials, TLS and database. */
  REDIS_SENTINELS: z
    .string()
    .regex(/^[^,:\s]+:\d{1,5}(,[^,:\s]+:\d{1,5})*$/, 'must be host:port[,host:port…]')
    .optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).default('mymaster'),
  REDIS_KEY_PREFIX: z.string().max(64).default('bo:'),
  AMQP_URL: z
    .string()
    .url()
    .refine((u) => /^amqps?:\/\//.test(u), 'must be an amqp:// or amqps:// URL')
    .default('amqp://guest:guest@127.0.0.1:5672'),
  AMQP_RECONNECT_MS: int(100, 600_000).default(2_000),
  AMQP_HEARTBEAT_SECONDS: int(1, 600).default(10),
  /** how long start-up waits for the first broker connection before going on without it */
  AMQP_CONNECT_WAIT_MS: int(0, 60_000).default(2_000),
  /**
   * amqp: outbox → RabbitMQ → consumers. postgres: outbox → each hosted consumer's `event_deliveries`
   * table → its inbox, in Postgres only (ADR 0077); needs every module in the process (MODULES all)
   */
  EVENTS_TRANSPORT: z.enum(['amqp', 'postgres']).default('amqp'),
  /**
   * full: Redis and RabbitMQ (REDIS_URL, AMQP_URL). postgres: nothing but PostgreSQL — events, jobs, login
   * throttling, leases and the catalog cache's generation in tables (ADR 0078). auto (default): postgres when REDIS_URL, AMQP_URL
   * and EVENTS_TRANSPORT are all unset and every module runs here (never under NODE_ENV=test), full otherwise
   */
  BACKEND: z.enum(['auto', 'full', 'postgres']).default('auto'),
  EVENTS_EXCHANGE: z.string().min(1).max(200).default('domain.events'),
  EVENTS_DLX: z.string().min(1).max(200).default('domain.events.dlx'),
  EVENTS_QUEUE_TYPE: z.enum(['auto', 'quorum', 'classic']).default('auto'),
  EVENTS_RELAY_BATCH_SIZE: int(1, 10_000).default(100),
  EVENTS_RELAY_POLL_MS: int(10, 600_000).default(1_000),
  EVENTS_PUBLISH_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /** an outbox row that failed this many publish attempts is parked (left for an operator) */
  EVENTS_RELAY_MAX_ATTEMPTS: int(1, 10_000).default(25),
  EVENTS_PREFETCH: int(1, 10_000).default(20),
  EVENTS_MAX_ATTEMPTS: int(1, 100).default(5),
  EVENTS_RETRY_DELAYS_MS: delayList.default([1_000, 5_000, 30_000, 120_000]),
  /** quorum queues only: deliveries without an ack (consumer crashes) before the broker dead-letters */
  EVENTS_DELIVERY_LIMIT: int(1, 1_000).default(20),
  UNLEASH_URL: z.string().url().optional(),
  UNLEASH_API_TOKEN: z.string().min(1).optional(),
  UNLEASH_APP_NAME: z.string().min(1).default('boxoffice'),
  UNLEASH_ENVIRONMENT: z.string().min(1).default('development'),
  UNLEASH_REFRESH_INTERVAL_MS: int(100, 3_600_000).default(15_000),
  FLAGS_BOOTSTRAP: flagOverrides.default({}),
  MODULES: modulesList.default([...MODULE_NAMES]),
  ROLE: z.enum(['web', 'worker', 'all']).default('all'),
  /** web processes one `npm start` runs (node:cluster, one port); `auto` = the machine's cores. ROLE=all adds one worker process */
  WEB_CONCURRENCY: z.union([z.literal('auto').transform(() => availableParallelism()), int(1, 64)]).default(1),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'must look like 100kb or 1mb')
    .default('100kb'),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000).default(10_000),
  TRUST_PROXY: bool.default(false),
  STORE_AUTH: storeSelection.default('routed'),
  STORE_MOVIE: storeSelection.default('routed'),
  STORE_BOOKING: storeSelection.default('routed'),
  STORE_PAYMENT: storeSelection.default('routed'),
  STORE_NOTIFICATION: storeSelection.default('routed'),
  // strangler (ADR 0050): a module's own schema in a database of its own; dual-write copies after commit
  AUTH_DATABASE_URL: postgresUrl.optional(),
  MOVIE_DATABASE_URL: postgresUrl.optional(),
  BOOKING_DATABASE_URL: postgresUrl.optional(),
  PAYMENT_DATABASE_URL: postgresUrl.optional(),
  NOTIFICATION_DATABASE_URL: postgresUrl.optional(),
  /** how long a process's dual-write lease lives without renewal, and how often it is renewed */
  DUAL_WRITE_LEASE_TTL_MS: int(1_000, 3_600_000).default(30_000),
  DUAL_WRITE_LEASE_RENEW_MS: int(100, 600_000).default(5_000),
  /** back-off of owed copies to a module's own database (the last delay repeats) */
  DUAL_WRITE_RETRY_DELAYS_MS: delayList.default([1_000, 5_000, 30_000, 120_000, 600_000]),
  DUAL_WRITE_QUEUE_BATCH: int(1, 10_000).default(200),
  /** shadow reads: share of reads compared, bound on the other side's read, comparisons at once, re-check delay */
  SHADOW_READ_SAMPLE_RATE: fraction.default(1),
  SHADOW_READ_TIMEOUT_MS: int(1, 60_000).default(250),
  SHADOW_READ_MAX_IN_FLIGHT: int(1, 10_000).default(16),
  SHADOW_READ_RECHECK_MS: int(0, 60_000).default(200),
  /** connections per module for shadow reads (a pool of their own: they never take one from requests) */
  SHADOW_READ_POOL_MAX: int(1, 50).default(2),
  /** `boxoffice cutover`: Unleash admin API (default: UNLEASH_URL) and an admin token */
  UNLEASH_ADMIN_URL: z.string().url().optional(),
  UNLEASH_ADMIN_TOKEN: z.string().min(1).optional(),
  /** the cutover plan (order, guards, rollbacks) */
  CUTOVER_PLAN: z.string().min(1).default('feature-flags/plan.yaml'),
  /** scheduled reconciliation of each hosted module (a BullMQ job scheduler; 0: none) and what it compares */
  RECONCILE_INTERVAL_MS: int(0, 7 * 86_400_000).default(3_600_000),
  RECONCILE_MODE: z.enum(['full', 'incremental']).default('full'),
  /** how often workers check modules in READ_NEW for drift and shadow mismatches (0: never roll back on their own) */
  AUTO_ROLLBACK_CHECK_MS: int(0, 3_600_000).default(30_000),
  /** EXTRACTED (ADR 0053): how long a module's own deployment may take to start answering a routed request (then 504) */
  ROUTE_PROXY_TIMEOUT_MS: int(100, 600_000).default(10_000),
  SERVICE_URL_AUTH: z.string().url().optional(),
  SERVICE_URL_MOVIE: z.string().url().optional(),
  SERVICE_URL_BOOKING: z.string().url().optional(),
  SERVICE_URL_PAYMENT: z.string().url().optional(),
  SERVICE_URL_NOTIFICATION: z.string().url().optional(),
  /** calls to another module's process (ADR 0065): one attempt's deadline, extra tries of a GET, and the circuit */
  INTERNAL_HTTP_TIMEOUT_MS: int(50, 60_000).default(3_000),
  INTERNAL_HTTP_RETRIES: int(0, 5).default(2),
  INTERNAL_CIRCUIT_THRESHOLD: int(1, 1_000).default(5),
  INTERNAL_CIRCUIT_HALF_OPEN_MS: int(100, 600_000).default(5_000),
  JWT_ISSUER: z.string().min(1).default('boxoffice-auth'),
  JWT_AUDIENCE: z.string().min(1).default('boxoffice-api'),
  ACCESS_TOKEN_TTL_SECONDS: int(60, 86_400).default(900),
  REFRESH_TOKEN_TTL_SECONDS: int(300, 90 * 86_400).default(7 * 86_400),
  JWT_KEYS_DIR: z.string().min(1).default('.data/keys'),
  JWT_KEYS_RELOAD_MS: int(100, 3_600_000).default(5_000),
  JWKS_CACHE_SECONDS: int(1, 86_400).default(300),
  /** a token with a key id not in the cached JWKS refetches it at most this often (a rotation seen early; not a lever for floods) */
  JWKS_REFETCH_COOLDOWN_SECONDS: int(0, 3_600).default(10),
  LEGACY_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ...securityEnv,
  // movie and booking (issue 3; ADR 0010, 0011)
  /** currency of the legacy tables' prices (they have no currency column) and of new showtimes by default */
  DEFAULT_CURRENCY: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like VND').default('VND'),
  /** how long catalog reads stay in Redis (writes invalidate them at once); 0 turns the cache off */
  MOVIE_CACHE_TTL_SECONDS: int(0, 86_400).default(30),
  /** how long a pending booking holds its seats */
  BOOKING_HOLD_SECONDS: int(1, 86_400).default(900),
  /** how often the expiry sweeper looks for pending bookings past expires_at */
  BOOKING_SWEEP_INTERVAL_MS: int(50, 600_000).default(1_000),
  BOOKING_MAX_SEATS: int(1, 100).default(10),
  /** seats one user may hold in pending bookings of one showtime (paid seats do not count) */
  BOOKING_MAX_PENDING_SEATS_PER_SHOWTIME: int(1, 1_000).default(10),
  /** pending bookings one user may have at once, all showtimes together */
  BOOKING_MAX_PENDING_BOOKINGS: int(1, 1_000).default(5),
  /** the old whole-showtime lock's lifetime (lock:showtime:<id>, 10 s in the old booking service) */
  BOOKING_SHOWTIME_LOCK_MS: int(100, 600_000).default(10_000),
  // notification and jobs (issue 4; ADR 0040)
  /** smtp://user:pass@host:port or smtps://…; nodemailer reads options such as ?pool=true from the query */
  SMTP_URL: z
    .string()
    .url()
    .refine((u) => /^smtps?:\/\//.test(u), 'must be an smtp:// or smtps:// URL')
    .optional(),
  SMTP_FROM: z.string().min(3).max(320).default('Boxoffice <no-reply@boxoffice.local>'),
  /** how notifications go out: email (SMTP_URL) or log (pino, for development); default email when SMTP_URL is set */
  NOTIFICATION_CHANNEL: z.enum(['email', 'log']).optional(),
  /** delivery attempts of one notification (first + retries) before it is failed */
  NOTIFICATION_MAX_ATTEMPTS: int(1, 50).default(8),
  /** first retry delay; doubles on each retry (60 s → 1, 2, 4 … min) */
  NOTIFICATION_BACKOFF_MS: int(10, 3_600_000).default(60_000),
  NOTIFICATION_CONCURRENCY: int(1, 100).default(5),
  /** bound on one SMTP conversation (connect, greeting, each command) */
  NOTIFICATION_SEND_TIMEOUT_MS: int(100, 600_000).default(30_000),
  /** how long a notification waits for its user's email address (user.created) before it is skipped */
  NOTIFICATION_PARK_HOURS: int(1, 24 * 365).default(72),
  /** how often the sweeper re-queues pending notifications whose job went missing and expires parked ones */
  NOTIFICATION_SWEEP_INTERVAL_MS: int(50, 3_600_000).default(30_000),
  /** a pending notification untouched this long without a live job is re-queued by the sweeper */
  NOTIFICATION_REQUEUE_AFTER_MS: int(50, 86_400_000).default(120_000),
  // payment (issue 4; ADR 0030–0032)
  /** the payment gateway adapter; only the deterministic fake exists so far */
  PAYMENT_GATEWAY: z.enum(['fake']).default('fake'),
  /** a gateway call not answered within this is abandoned: the payment stays pending and recoverable */
  PAYMENT_GATEWAY_TIMEOUT_MS: int(10, 120_000).default(10_000),
  /** how long an Idempotency-Key is remembered (Stripe: 24 h); after that the key may be used again */
  PAYMENT_IDEMPOTENCY_TTL_SECONDS: int(60, 30 * 86_400).default(86_400),
  /** a request holding a key this long is presumed dead and the next request with the key resumes it */
  PAYMENT_IDEMPOTENCY_LOCK_TIMEOUT_MS: int(1_000, 3_600_000).default(90_000),
  /**
   * use_booking_snapshot: how long a payment waits for the booking's snapshot (booking.created still on its
   * way, e.g. paying right after booking) before it asks the booking module, when that runs in this process
   */
  PAYMENT_SNAPSHOT_WAIT_MS: int(0, 30_000).default(1_000),
  /** fake gateway, token tok_charge_then_crash: after charging, throw (default) or SIGKILL this process */
  PAYMENT_FAKE_CRASH_MODE: z.enum(['throw', 'kill']).default('throw'),
});

export type Env = z.infer<typeof envSchema>;

export interface Config extends Env {
  /** BACKEND resolved: what this process runs on besides PostgreSQL (ADR 0078) */
  backend: 'full' | 'postgres';
  /** STORE_<MODULE>: routed by phase (default), or pinned to one side */
  stores: Record<ModuleName, StoreSelection>;
  serviceUrls: Partial<Record<ModuleName, string>>;
  /** each module's Redis: <MODULE>_REDIS_URL, or REDIS_URL */
  moduleRedisUrls: Record<ModuleName, string>;
  /** <MODULE>_DATABASE_URL: modules whose own schema lives in a database of its own */
  moduleDatabaseUrls: Partial<Record<ModuleName, string>>;
}

export class ConfigError extends Error {
  readonly problems: { variable: string; message: string }[];

  constructor(problems: { variable: string; message: string }[]) {
    super(
      `invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Parse the environment. Unset and empty variables take their defaults. */
export function loadConfig(source: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = source[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const parsed = envSchema.safeParse(input);
  if (!parsed.success) {
    const first = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? '?');
      if (!first.has(variable)) first.set(variable, issue.message);
    }
    throw new ConfigError([...first].map(([variable, message]) => ({ variable, message })));
  }
  const env = parsed.data;
  if (env.NODE_ENV === 'production' && input['DATABASE_URL'] === undefined) {
    // the development default (an embedded cluster, or a local server) is never what production means
    throw new ConfigError([{ variable: 'DATABASE_URL', message: 'is required when NODE_ENV=production (postgres://user:password@host:5432/boxoffice)' }]);
  }
  if (env.NOTIFICATION_CHANNEL === 'email' && !env.SMTP_URL) {
    throw new ConfigError([{ variable: 'SMTP_URL', message: 'is required when NOTIFICATION_CHANNEL=email' }]);
  }
  const security = checkSecurityEnv(env);
  if (security.length > 0) throw new ConfigError(security);
  if (env.UNLEASH_URL && !env.UNLEASH_API_TOKEN) {
    throw new ConfigError([
      { variable: 'UNLEASH_API_TOKEN', message: 'is required when UNLEASH_URL is set' },
    ]);
  }
  if (env.DUAL_WRITE_LEASE_RENEW_MS * 2 > env.DUAL_WRITE_LEASE_TTL_MS) {
    throw new ConfigError([{ variable: 'DUAL_WRITE_LEASE_RENEW_MS', message: 'must be at most half of DUAL_WRITE_LEASE_TTL_MS (a lease must be renewed before it runs out)' }]);
  }
  const backend = resolveBackend(env, input);
  if (backend === 'postgres') env.EVENTS_TRANSPORT = 'postgres';
  if (env.EVENTS_TRANSPORT === 'postgres' && env.MODULES.length !== MODULE_NAMES.length) {
    // without a broker an event reaches only the consumers of the process that relays it
    throw new ConfigError([{ variable: 'MODULES', message: `must be every module (or unset) when ${backend === 'postgres' ? 'BACKEND' : 'EVENTS_TRANSPORT'}=postgres: events are delivered in process, so a module hosted elsewhere (${MODULE_NAMES.filter((m) => !env.MODULES.includes(m)).join(', ')}) would never receive them; use ${backend === 'postgres' ? 'BACKEND=full' : 'EVENTS_TRANSPORT=amqp'} with AMQP_URL to split modules out` }]);
  }
  const moduleDatabaseUrls: Partial<Record<ModuleName, string>> = {};
  for (const m of MODULE_NAMES) {
    const url = env[`${m.toUpperCase() as Uppercase<ModuleName>}_DATABASE_URL`];
    if (url) moduleDatabaseUrls[m] = url;
    if (url && env[`STORE_${m.toUpperCase() as Uppercase<ModuleName>}`] === 'own') {
      throw new ConfigError([{ variable: `STORE_${m.toUpperCase()}`, message: `cannot pin ${m} to its own schema while ${m.toUpperCase()}_DATABASE_URL puts that schema in another database (its transactions live in DATABASE_URL until the module is extracted)` }]);
    }
  }
  const moduleRedisUrls = Object.fromEntries(
    MODULE_NAMES.map((m) => [m, env[`${m.toUpperCase() as Uppercase<ModuleName>}_REDIS_URL`] ?? env.REDIS_URL]),
  ) as Record<ModuleName, string>;
  return {
    ...env,
    backend,
    moduleDatabaseUrls,
    moduleRedisUrls,
    stores: {
      auth: env.STORE_AUTH,
      movie: env.STORE_MOVIE,
      booking: env.STORE_BOOKING,
      payment: env.STORE_PAYMENT,
      notification: env.STORE_NOTIFICATION,
    },
    serviceUrls: {
      ...(env.SERVICE_URL_AUTH ? { auth: env.SERVICE_URL_AUTH } : {}),
      ...(env.SERVICE_URL_MOVIE ? { movie: env.SERVICE_URL_MOVIE } : {}),
      ...(env.SERVICE_URL_BOOKING ? { booking: env.SERVICE_URL_BOOKING } : {}),
      ...(env.SERVICE_URL_PAYMENT ? { payment: env.SERVICE_URL_PAYMENT } : {}),
      ...(env.SERVICE_URL_NOTIFICATION ? { notification: env.SERVICE_URL_NOTIFICATION } : {}),
    },
  };
}

/** Variables that only mean something with Redis or RabbitMQ: BACKEND=postgres refuses them rather than ignore them. */
const FULL_STACK_VARIABLES = ['REDIS_URL', ...MODULE_NAMES.map((m) => `${m.toUpperCase()}_REDIS_URL`), 'REDIS_SENTINELS', 'AMQP_URL'] as const;

/**
 * BACKEND=auto picks the Postgres-only profile for a process nobody pointed at Redis or RabbitMQ, which
 * is what a small team's first `npm start` (or one image with only DATABASE_URL) means. Tests are
 * excluded: they rely on the local Redis and RabbitMQ at their default addresses and ask for the
 * Postgres profile explicitly.
 */
function resolveBackend(env: Env, input: Record<string, string>): Config['backend'] {
  const setFullStack = FULL_STACK_VARIABLES.filter((v) => input[v] !== undefined);
  if (env.BACKEND === 'postgres') {
    if (setFullStack.length > 0) {
      throw new ConfigError(setFullStack.map((variable) => ({ variable, message: 'must be unset when BACKEND=postgres (nothing but PostgreSQL is used); set BACKEND=full to use it' })));
    }
    if (input['EVENTS_TRANSPORT'] === 'amqp') {
      throw new ConfigError([{ variable: 'EVENTS_TRANSPORT', message: 'cannot be amqp when BACKEND=postgres (events go through Postgres tables)' }]);
    }
    return 'postgres';
  }
  if (env.BACKEND === 'full') return 'full';
  const nothingElse = setFullStack.length === 0 && input['EVENTS_TRANSPORT'] === undefined && env.MODULES.length === MODULE_NAMES.length;
  return nothingElse && env.NODE_ENV !== 'test' ? 'postgres' : 'full';
}

/** The Postgres role a schema's objects belong to and its pool runs as. */
export function roleFor(config: Pick<Config, 'DB_ROLE_PREFIX'>, schemaOrRole: string): string {
  return `${config.DB_ROLE_PREFIX}${schemaOrRole}`;
}
