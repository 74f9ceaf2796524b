import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { MODULE_SCHEMAS, roleFor, type Config, type ModuleName } from './config.ts';
import type { Logger } from './logger.ts';

export type { Knex };
/** A pool or an open transaction: stores take either, so a service can put several writes in one transaction. */
export type Db = Knex | Knex.Transaction;

/** whether `db` is an open (or finished) transaction rather than a pool */
export const isTransaction = (db: Db): db is Knex.Transaction => (db as { isTransaction?: boolean }).isTransaction === true;

// The legacy tables use `timestamp without time zone` (as the old init.sql did). Read and write them as UTC
// so values survive the trip whatever the server's or the process's time zone.
pg.types.setTypeParser(pg.types.builtins.TIMESTAMP, (s: string) => new Date(`${s.replace(' ', 'T')}Z`));
pg.defaults.parseInputDatesAsUTC = true;

export interface PoolOptions {
  /** role the pool acts as (SET ROLE at connection start) */
  role?: string;
  /** search_path for the pool's connections */
  searchPath?: string;
  max?: number;
  url?: string;
  /** where knex's own warnings go (default: its console lines); connection failures are reported once per outage */
  outage?: DatabaseOutage;
}

/**
 * SQLSTATEs and socket errors that mean "the database cannot be reached or will not take work now", as
 * opposed to a bad query: connection exceptions (08xxx), operator intervention (57P01–57P03: shutdown,
 * crash, still starting), too many connections (53300), and the sockets' own errors.
 */
const UNAVAILABLE_STATES = /^(08...|57P0[1-3]|53300)$/;
const UNAVAILABLE_SOCKET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
const UNAVAILABLE_MESSAGE = /Connection terminated|Timeout acquiring a connection|timeout exceeded when trying to connect|Client has encountered a connection error/i;

/** Whether an error (or one it wraps) says the database is unreachable, rather than that a query was wrong. */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 4) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && (UNAVAILABLE_SOCKET.has(e.code) || UNAVAILABLE_STATES.test(e.code))) return true;
  if (e.name === 'KnexTimeoutError') return true;
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message) && !sqlState(err)) return true;
  if (Array.isArray(e.errors) && e.errors.some((x) => isDatabaseUnavailable(x, depth + 1))) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

/**
 * One log line when the database becomes unreachable and one when it answers again, for every pool of a
 * process: knex would otherwise print a stack to stdout on every failed acquire (many a second under load),
 * outside the JSON log.
 */
export class DatabaseOutage {
  private since: number | undefined;
  private failures = 0;
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  get isDown(): boolean {
    return this.since !== undefined;
  }

  failed(err: unknown): void {
    this.failures++;
    if (this.since !== undefined) return;
    this.since = Date.now();
    const message = err instanceof Error ? err.message : String(err);
    this.logger.error({ err: message }, 'database unreachable; requests that need it answer 503 until it is back');
  }

  recovered(): void {
    if (this.since === undefined) return;
    this.logger.warn({ down_ms: Date.now() - this.since, failed_attempts: this.failures }, 'database reachable again');
    this.since = undefined;
    this.failures = 0;
  }

  /** knex's `log` option: connection noise feeds the outage, anything else is a pino warning */
  knexLog(): Knex.Config['log'] {
    const route = (level: 'warn' | 'error' | 'debug') => (message: unknown) => {
      const text = typeof message === 'string' ? message : String(message);
      if (/^(Acquire connection error|Connection Error):/.test(text)) this.failed(new Error(text.split('\n')[0]!.replace(/^[^:]+: (Error: )?/, '')));
      else this.logger[level]({ knex: text }, 'knex');
    };
    return { warn: route('warn'), error: route('error'), debug: route('debug'), deprecate: (method: string, alt: string) => this.logger.warn({ method, alternative: alt }, 'knex deprecation') };
  }
}

export function createPool(url: string, options: PoolOptions = {}): Knex {
  const startup: string[] = [];
  if (options.role) startup.push(`-c role=${options.role}`);
  if (options.searchPath) startup.push(`-c search_path=${options.searchPath}`);
  return knexFactory({
    client: 'pg',
    connection: {
      connectionString: url,
      ...(startup.length ? { options: startup.join(' ') } : {}),
      application_name: options.role ? `boxoffice:${options.role}` : 'boxoffice',
    },
    pool: {
      min: 0,
      max: options.max ?? 10,
      idleTimeoutMillis: 30_000,
      ...(options.outage
        ? {
            afterCreate: (connection: unknown, done: (err: Error | null, connection: unknown) => void) => {
              options.outage!.recovered();
              done(null, connection);
            },
          }
        : {}),
    },
    acquireConnectionTimeout: 10_000,
    ...(options.outage ? { log: options.outage.knexLog() } : {}),
  });
}

export type DatabasesConfig = Pick<Config, 'DATABASE_URL' | 'DB_POOL_MAX' | 'DB_ROLE_PREFIX'> & Partial<Pick<Config, 'moduleDatabaseUrls'>>;

/**
 * One knex pool per Postgres role. A module's pool logs in with DATABASE_URL and acts as the module's
 * role (privileges on its own schema, and on the legacy tables it owned in the old system), with its
 * schema first on the search path. A split-out deployment gives DATABASE_URL a login that is a member
 * of that one role only.
 */
export class Databases {
  private readonly pools = new Map<string, Knex>();

  private readonly config: DatabasesConfig;
  private readonly outage: DatabaseOutage | undefined;

  /** with a logger, knex's connection errors go to it once per outage (DatabaseOutage) */
  constructor(config: DatabasesConfig, logger?: Logger) {
    this.config = config;
    this.outage = logger ? new DatabaseOutage(logger.child({ component: 'postgres' })) : undefined;
  }

  private poolOptions(): Pick<PoolOptions, 'outage'> {
    return this.outage ? { outage: this.outage } : {};
  }

  /**
   * The pool of a module's own schema when it lives in a database of its own (<MODULE>_DATABASE_URL),
   * else undefined (it shares DATABASE_URL).
   */
  forModuleDatabase(module: ModuleName): Knex | undefined {
    const url = this.config.moduleDatabaseUrls?.[module];
    if (!url) return undefined;
    const schema = MODULE_SCHEMAS[module];
    const key = `${url}#${schema}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = createPool(url, { role: roleFor(this.config, schema), searchPath: schema, max: this.config.DB_POOL_MAX, ...this.poolOptions() });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** The pool of a module: its role, its schema. */
  forModule(module: ModuleName): Knex {
    const schema = MODULE_SCHEMAS[module];
    return this.forRole(schema, schema);
  }

  /**
   * A small second pool of a module's role for work that must never take a connection from the
   * module's requests (shadow reads): when it is busy, that work waits or gives up, requests do not.
   */
  sidePool(module: ModuleName, max: number): Knex {
    const schema = MODULE_SCHEMAS[module];
    const key = `side:${schema}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = createPool(this.config.DATABASE_URL, { role: roleFor(this.config, schema), searchPath: schema, max, ...this.poolOptions() });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** The pool of a role by its unprefixed name (`legacy`, `migration`, or a schema name). */
  forRole(name: string, searchPath?: string): Knex {
    const role = roleFor(this.config, name);
    let pool = this.pools.get(role);
    if (!pool) {
      pool = createPool(this.config.DATABASE_URL, {
        role,
        max: this.config.DB_POOL_MAX,
        ...(searchPath ? { searchPath } : {}),
        ...this.poolOptions(),
      });
      this.pools.set(role, pool);
    }
    return pool;
  }

  /** Health probe: one round trip on any pool (or a fresh one). */
  async ping(): Promise<void> {
    const pool = this.pools.values().next().value ?? this.forRole('migration', 'migration');
    await pool.raw('select 1');
  }

  async closeAll(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.destroy()));
  }
}

/** SQLSTATE of a pg error, if it is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
