import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { MODULE_SCHEMAS, roleFor, type Config, type ModuleName } from './config.ts';

export type { Knex };
/** A pool or an open transaction: stores take either, so a service can put several writes in one transaction. */
export type Db = Knex | Knex.Transaction;

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
    pool: { min: 0, max: options.max ?? 10, idleTimeoutMillis: 30_000 },
    acquireConnectionTimeout: 10_000,
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

  constructor(config: DatabasesConfig) {
    this.config = config;
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
      pool = createPool(url, { role: roleFor(this.config, schema), searchPath: schema, max: this.config.DB_POOL_MAX });
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
      pool = createPool(this.config.DATABASE_URL, { role: roleFor(this.config, schema), searchPath: schema, max });
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
