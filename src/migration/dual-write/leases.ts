import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ModuleName } from '../../platform/config.ts';
import type { Knex } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import type { Worker } from '../../platform/module.ts';
import type { ModuleRoute } from '../phases.ts';

export type LeaseMode = 'inline' | 'queue';

export interface LeaseOptions {
  /** the migration role's pool (owns migration.dual_write_leases) */
  db: Knex;
  modules: ModuleName[];
  route(module: ModuleName): ModuleRoute;
  mode(module: ModuleName): LeaseMode;
  logger: Logger;
  ttlMs: number;
  renewMs: number;
  instance?: string;
}

/**
 * This process's dual-write leases. The capture triggers in the database copy a module's writes to the
 * other side while ANY live lease for the module exists — so during the flag refresh interval, when some
 * processes already dual-write and others do not yet, every process's writes are copied all the same.
 *
 * A write in a dual-write phase first makes sure this process's lease is live (ensure); a background
 * loop renews the leases of the modules whose flags still ask for dual-write and drops the others. A
 * crashed process's lease runs out after the TTL.
 */
export class DualWriteLeases implements Worker {
  readonly name = 'dual-write-leases';
  readonly instance: string;
  private readonly held = new Map<ModuleName, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly options: LeaseOptions;

  constructor(options: LeaseOptions) {
    this.options = options;
    this.instance = options.instance ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  }

  /** Resolves once this process holds a live lease for the module (a round trip only when it must renew). */
  async ensure(module: ModuleName, phase: string): Promise<void> {
    const until = this.held.get(module);
    if (until !== undefined && until - Date.now() > this.options.ttlMs / 2) return;
    await this.acquire(module, phase);
  }

  private async acquire(module: ModuleName, phase: string): Promise<void> {
    const { db, ttlMs } = this.options;
    const started = Date.now();
    await db.raw(
      `INSERT INTO migration.dual_write_leases (module, instance, mode, phase, expires_at)
       VALUES (?, ?, ?, ?, now() + make_interval(secs => ?))
       ON CONFLICT (module, instance) DO UPDATE SET mode = EXCLUDED.mode, phase = EXCLUDED.phase, expires_at = EXCLUDED.expires_at`,
      [module, this.instance, this.options.mode(module), phase, ttlMs / 1000],
    );
    if (!this.held.has(module)) this.options.logger.info({ module, phase, instance: this.instance }, 'dual-write lease taken');
    this.held.set(module, started + ttlMs);
  }

  private async release(module: ModuleName): Promise<void> {
    await this.options.db('migration.dual_write_leases').where({ module, instance: this.instance }).delete();
    this.held.delete(module);
    this.options.logger.info({ module, instance: this.instance }, 'dual-write lease released');
  }

  /** One pass: renew what the flags still ask for, release the rest. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    for (const module of this.options.modules) {
      const route = this.options.route(module);
      try {
        if (route.dualWrite) await this.acquire(module, route.phase);
        else if (this.held.has(module)) await this.release(module);
      } catch (err) {
        this.options.logger.warn({ err, module }, 'dual-write lease not renewed; will retry');
      }
    }
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.refresh();
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.refresh().finally(tick), this.options.renewMs);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const modules = [...this.held.keys()];
    await Promise.allSettled(modules.map((m) => this.release(m)));
  }
}
