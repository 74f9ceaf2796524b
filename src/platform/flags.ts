import { InMemStorageProvider, Unleash, type Context as UnleashContext } from 'unleash-client';
import { FLAGS, FLAG_NAMES, type FlagName } from './flag-names.ts';
import type { Logger } from './logger.ts';

export type { FlagName };
export { FLAG_NAMES, isFlagName } from './flag-names.ts';

/** Who a flag is evaluated for; gradual rollouts are sticky on userId. */
export interface FlagContext {
  userId?: string;
  sessionId?: string;
  remoteAddress?: string;
  properties?: Record<string, string>;
}

export interface FlagsStatus {
  source: 'unleash' | 'bootstrap';
  /** true once the values came from Unleash at least once */
  synchronized: boolean;
  lastError?: string;
}

/** The one way code reads a flag. An unknown flag name does not compile. */
export interface Flags {
  isEnabled(name: FlagName, context?: FlagContext): boolean;
  /** false only when the flag is off for everyone (Unleash: switched off in this environment), so work it guards can stop altogether */
  mayBeEnabled(name: FlagName): boolean;
  /** every flag's value for a context (the dashboard, `boxoffice flags list`) */
  all(context?: FlagContext): Record<FlagName, boolean>;
  status(): FlagsStatus;
  /** resolves true once synchronized with Unleash, false after the timeout (bootstrap values keep serving) */
  waitUntilSynchronized(timeoutMs: number): Promise<boolean>;
  /** call `listener` whenever the values changed (a fetch from Unleash brought something new) */
  onChange(listener: () => void): void;
  close(): Promise<void>;
}

export interface FlagsOptions {
  url?: string | undefined;
  apiToken?: string | undefined;
  appName: string;
  environment: string;
  refreshIntervalMs: number;
  /** FLAGS_BOOTSTRAP: values used instead of the YAML defaults before (or without) Unleash */
  overrides: Record<string, boolean>;
  logger: Logger;
  instanceId?: string;
}

function bootstrapValues(overrides: Record<string, boolean>, logger: Logger): Record<FlagName, boolean> {
  const values = Object.fromEntries(FLAG_NAMES.map((n) => [n, FLAGS[n].default])) as Record<FlagName, boolean>;
  for (const [name, value] of Object.entries(overrides)) {
    if (Object.hasOwn(FLAGS, name)) values[name as FlagName] = value;
    else logger.warn({ flag: name }, 'FLAGS_BOOTSTRAP names a flag that feature-flags/flags.yaml does not define; ignored');
  }
  return values;
}

class BootstrapFlags implements Flags {
  private readonly values: Record<FlagName, boolean>;

  constructor(values: Record<FlagName, boolean>) {
    this.values = values;
  }
  isEnabled(name: FlagName): boolean {
    return this.values[name];
  }
  mayBeEnabled(name: FlagName): boolean {
    return this.values[name];
  }
  all(): Record<FlagName, boolean> {
    return { ...this.values };
  }
  status(): FlagsStatus {
    return { source: 'bootstrap', synchronized: false };
  }
  async waitUntilSynchronized(): Promise<boolean> {
    return false;
  }
  onChange(): void {}
  async close(): Promise<void> {}
}

class UnleashFlags implements Flags {
  private synchronized = false;
  private lastError: string | undefined;
  private lastErrorLog = 0;
  private readonly waiters = new Set<() => void>();

  private readonly client: Unleash;
  private readonly fallback: Record<FlagName, boolean>;

  constructor(client: Unleash, fallback: Record<FlagName, boolean>, logger: Logger) {
    this.client = client;
    this.fallback = fallback;
    client.on('synchronized', () => {
      this.synchronized = true;
      this.lastError = undefined;
      for (const w of this.waiters) w();
      this.waiters.clear();
    });
    client.on('error', (err: Error) => {
      this.lastError = err.message;
      const now = Date.now();
      if (now - this.lastErrorLog > 30_000) {
        this.lastErrorLog = now;
        logger.warn({ err: err.message }, 'unleash unreachable; serving last known / bootstrap flag values');
      }
    });
    client.on('warn', (msg: unknown) => logger.debug({ msg }, 'unleash warning'));
  }

  isEnabled(name: FlagName, context: FlagContext = {}): boolean {
    return this.client.isEnabled(name, { ...context } as UnleashContext, this.fallback[name]);
  }

  mayBeEnabled(name: FlagName): boolean {
    // a flag Unleash does not (yet) know is served its fallback; a known one with no strategy matching a
    // context may still be on for someone, so only "switched off" counts as off for everyone
    return this.client.getFeatureToggleDefinition(name)?.enabled ?? this.fallback[name];
  }

  all(context: FlagContext = {}): Record<FlagName, boolean> {
    return Object.fromEntries(FLAG_NAMES.map((n) => [n, this.isEnabled(n, context)])) as Record<FlagName, boolean>;
  }

  status(): FlagsStatus {
    return { source: 'unleash', synchronized: this.synchronized, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  onChange(listener: () => void): void {
    this.client.on('changed', () => listener());
  }

  waitUntilSynchronized(timeoutMs: number): Promise<boolean> {
    if (this.synchronized) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(done);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.waiters.add(done);
    });
  }

  async close(): Promise<void> {
    this.client.destroy();
    // destroy() removes the repository's listeners; a fetch still in flight then emits 'error' into the
    // void, which becomes an unhandled rejection. Keep a sink on both emitters.
    this.client.on('error', () => undefined);
    (this.client as unknown as { repository?: { on(e: string, f: () => void): void } }).repository?.on('error', () => undefined);
  }
}

/**
 * Flags from Unleash when UNLEASH_URL is set, else from the YAML defaults (plus FLAGS_BOOTSTRAP).
 * The service starts and serves on those bootstrap values whether or not Unleash answers; it never
 * waits for it. They are passed as the fallback of every evaluation, so they also apply before the
 * first fetch and to any flag Unleash does not define. (unleash-client's own `bootstrap` option is not
 * used: it fires 'synchronized' without the server having answered.)
 */
export function createFlags(options: FlagsOptions): Flags {
  const values = bootstrapValues(options.overrides, options.logger);
  if (!options.url) return new BootstrapFlags(values);
  const client = new Unleash({
    url: options.url,
    appName: options.appName,
    environment: options.environment,
    ...(options.instanceId ? { instanceId: options.instanceId } : {}),
    refreshInterval: options.refreshIntervalMs,
    metricsInterval: 60_000,
    timeout: 5_000,
    customHeaders: options.apiToken ? { Authorization: options.apiToken } : {},
    storageProvider: new InMemStorageProvider(),
    skipInstanceCountWarning: true,
  });
  return new UnleashFlags(client, values, options.logger);
}
