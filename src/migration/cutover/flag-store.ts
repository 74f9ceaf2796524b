import type { Config } from '../../platform/config.ts';
import { FLAGS, FLAG_NAMES, type FlagName } from '../../platform/flag-names.ts';
import { WRITE_PATH_USER } from '../phases.ts';

/** A flag as the cutover tool sees it for the app: off (0), on for everyone (100), or for a share of users. */
export interface FlagState {
  rollout: number;
  /** `cutover`: set by this tool; `other`: strategies someone else made; `default`: nothing set (the YAML default) */
  source: 'cutover' | 'other' | 'default' | 'bootstrap';
}

export interface FlagStore {
  readonly kind: 'unleash' | 'bootstrap';
  /** where the flags live, for messages */
  readonly where: string;
  read(names: FlagName[]): Promise<Record<string, FlagState>>;
  /** set each flag for the app: 0 = off, 100 = on, else the sticky share of users */
  write(changes: { flag: FlagName; rollout: number }[]): Promise<void>;
}

export class FlagStoreError extends Error {}

/**
 * Without Unleash (FLAGS_BOOTSTRAP and the YAML defaults): the tool can say where each module stands,
 * but cannot change anything — `advance` prints what to set instead.
 */
export function bootstrapFlagStore(values: Record<FlagName, boolean>): FlagStore {
  return {
    kind: 'bootstrap',
    where: 'FLAGS_BOOTSTRAP and feature-flags/flags.yaml defaults',
    async read(names) {
      return Object.fromEntries(names.map((n) => [n, { rollout: values[n] ? 100 : 0, source: 'bootstrap' as const }]));
    },
    async write(changes) {
      const wanted = changes.map((c) => `${c.flag}=${c.rollout > 0}`).join(',');
      throw new FlagStoreError(`no Unleash admin API is configured (UNLEASH_URL and UNLEASH_ADMIN_TOKEN): set FLAGS_BOOTSTRAP to include ${wanted} on every process and restart them, or configure Unleash`);
    },
  };
}

interface Strategy {
  id: string;
  name: string;
  title?: string | null;
  parameters: Record<string, string>;
  constraints: { contextName: string; operator: string; values?: string[]; inverted?: boolean }[];
}

export interface UnleashAdminOptions {
  /** the API base, e.g. http://unleash:4242/api (admin calls go to <base>/admin/…) */
  url: string;
  token: string;
  appName: string;
  environment: string;
  project?: string;
  timeoutMs?: number;
}

/**
 * Flags in Unleash, through its admin API. The tool owns one strategy per flag for the app (titled
 * `boxoffice cutover (<app>)`, constrained to appName = the app): a flexibleRollout on `default`
 * stickiness (userId, else the session key the app passes: the client address) with groupId = the flag,
 * so raising 10 → 50 % keeps the first 10 % in. A READ_NEW flag also gets the write-path strategy: every
 * process writes the own schema first as soon as any share reads it (src/migration/phases.ts).
 */
export function unleashFlagStore(options: UnleashAdminOptions): FlagStore {
  const base = `${options.url.replace(/\/$/, '')}/admin/projects/${options.project ?? 'default'}/features`;
  const ours = `boxoffice cutover (${options.appName})`;
  const oursWrite = `boxoffice cutover write path (${options.appName})`;
  const appOnly = { contextName: 'appName', operator: 'IN', values: [options.appName] };

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: { Authorization: options.token, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
    } catch (err) {
      throw new FlagStoreError(`Unleash is unreachable at ${options.url} (${err instanceof Error ? err.message : String(err)})`);
    }
    if (res.status === 401 || res.status === 403) throw new FlagStoreError(`Unleash refused the admin token (${res.status}) at ${options.url}`);
    return res;
  }
  async function ok(res: Promise<Response>, what: string): Promise<Response> {
    const r = await res;
    if (!r.ok) throw new FlagStoreError(`Unleash ${what}: ${r.status} ${await r.text()}`);
    return r;
  }
  async function feature(name: FlagName): Promise<{ enabled: boolean; strategies: Strategy[] } | undefined> {
    const res = await call('GET', `/${name}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new FlagStoreError(`Unleash answered ${res.status} for ${name}`);
    const doc = (await res.json()) as { environments: { name: string; enabled: boolean; strategies: Strategy[] }[] };
    const env = doc.environments.find((e) => e.name === options.environment);
    return { enabled: env?.enabled ?? false, strategies: env?.strategies ?? [] };
  }
  /** does a strategy someone else made apply to the app, and to what share? */
  function appliesToApp(s: Strategy): number | undefined {
    for (const c of s.constraints) {
      if (c.contextName !== 'appName') return undefined;
      const listed = (c.values ?? []).includes(options.appName);
      const inList = c.operator === 'IN' ? listed : c.operator === 'NOT_IN' ? !listed : undefined;
      if (inList === undefined || inList === Boolean(c.inverted)) return undefined;
    }
    return s.name === 'flexibleRollout' ? Number(s.parameters['rollout'] ?? 100) : s.name === 'default' ? 100 : undefined;
  }

  return {
    kind: 'unleash',
    where: `Unleash at ${options.url} (app ${options.appName}, environment ${options.environment})`,
    async read(names) {
      const out: Record<string, FlagState> = {};
      for (const name of names) {
        const f = await feature(name);
        if (!f) {
          out[name] = { rollout: FLAGS[name].default ? 100 : 0, source: 'default' };
          continue;
        }
        const mine = f.strategies.find((s) => s.title === ours);
        if (mine) {
          out[name] = { rollout: f.enabled ? Number(mine.parameters['rollout'] ?? 100) : 0, source: 'cutover' };
          continue;
        }
        const shares = f.enabled ? f.strategies.map(appliesToApp).filter((x): x is number => x !== undefined) : [];
        // a flag Unleash knows is off unless a strategy turns it on for the app (the YAML default is only for unknown flags)
        out[name] = { rollout: shares.length > 0 ? Math.max(...shares) : 0, source: 'other' };
      }
      return out;
    },
    async write(changes) {
      for (const { flag, rollout } of changes) {
        let f = await feature(flag);
        if (!f) {
          await ok(call('POST', '', { name: flag, type: 'release', description: `boxoffice: ${flag}` }), `create ${flag}`);
          f = { enabled: false, strategies: [] };
        }
        const wanted: { title: string; strategy: Omit<Strategy, 'id' | 'title'> }[] = [];
        if (rollout > 0) {
          wanted.push({ title: ours, strategy: { name: 'flexibleRollout', parameters: { rollout: String(rollout), stickiness: 'default', groupId: flag }, constraints: [appOnly] } });
          if (flag.startsWith('read_from_new_')) {
            wanted.push({ title: oursWrite, strategy: { name: 'flexibleRollout', parameters: { rollout: '100', stickiness: 'default', groupId: `${flag}:write-path` }, constraints: [appOnly, { contextName: 'userId', operator: 'IN', values: [WRITE_PATH_USER] }] } });
          }
        }
        const env = `/${flag}/environments/${options.environment}`;
        // add or update first: Unleash switches an environment off when its last strategy goes
        for (const w of wanted) {
          const existing = f.strategies.find((s) => s.title === w.title);
          if (existing) await ok(call('PUT', `${env}/strategies/${existing.id}`, { ...w.strategy, title: w.title }), `update ${flag}`);
          else await ok(call('POST', `${env}/strategies`, { ...w.strategy, title: w.title }), `add a strategy to ${flag}`);
        }
        for (const s of f.strategies) {
          if ((s.title === ours || s.title === oursWrite) && !wanted.some((w) => w.title === s.title)) {
            await ok(call('DELETE', `${env}/strategies/${s.id}`), `remove a strategy of ${flag}`);
          }
        }
        if (rollout > 0) await ok(call('POST', `${env}/on`), `enable ${flag}`);
      }
    },
  };
}

/** The flag store of a configuration: Unleash's admin API with UNLEASH_ADMIN_TOKEN, else the bootstrap values (read-only). */
export function flagStoreFor(config: Config): FlagStore {
  const url = config.UNLEASH_ADMIN_URL ?? config.UNLEASH_URL;
  if (url && config.UNLEASH_ADMIN_TOKEN) {
    return unleashFlagStore({ url, token: config.UNLEASH_ADMIN_TOKEN, appName: config.UNLEASH_APP_NAME, environment: config.UNLEASH_ENVIRONMENT });
  }
  const values = Object.fromEntries(FLAG_NAMES.map((n) => [n, config.FLAGS_BOOTSTRAP[n] ?? FLAGS[n].default])) as Record<FlagName, boolean>;
  return bootstrapFlagStore(values);
}

/**
 * Read-only: the flags as this process evaluates them (the app's Unleash client, or its bootstrap values),
 * for pages that show phases where no Unleash admin token is configured. A READ_NEW share reads as on
 * (the write path is in every share); changing a flag is refused.
 */
export function evaluatedFlagStore(flags: { isEnabled(name: FlagName, context?: { userId?: string }): boolean }, where: string): FlagStore {
  return {
    kind: 'bootstrap',
    where,
    async read(names) {
      return Object.fromEntries(names.map((n) => [n, { rollout: flags.isEnabled(n, { userId: WRITE_PATH_USER }) ? 100 : 0, source: 'other' as const }]));
    },
    async write() {
      throw new FlagStoreError('this flag store only reads the flags this process evaluates');
    },
  };
}
