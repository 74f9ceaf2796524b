import pg from 'pg';
import { FLAGS, type FlagName } from '../../src/platform/flag-names.ts';
import type { Flags } from '../../src/platform/flags.ts';
import { PG_BASE } from './db.ts';

/** The throwaway Unleash that `npm test` starts (scripts/test.ts). */
export function unleashTestEnv(): { url: string; adminToken: string; clientToken: string } {
  const url = process.env['UNLEASH_TEST_URL'];
  const adminToken = process.env['UNLEASH_TEST_ADMIN_TOKEN'];
  const clientToken = process.env['UNLEASH_TEST_CLIENT_TOKEN'];
  if (!url || !adminToken || !clientToken) {
    throw new Error('UNLEASH_TEST_URL is not set: run the tests through `npm test`, which starts Unleash');
  }
  return { url, adminToken, clientToken };
}

const PROJECT = 'default';
const ENV = 'development';
const NONE = '__nobody__';

interface Strategy {
  id: string;
  name: string;
  title?: string | null;
  parameters: Record<string, string>;
  constraints: { contextName: string; operator: string; values: string[] }[];
}

async function call(method: string, path: string, body?: unknown): Promise<Response> {
  const { url, adminToken } = unleashTestEnv();
  return fetch(`${url}/admin${path}`, {
    method,
    headers: { Authorization: adminToken, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function ok(res: Promise<Response>, what: string): Promise<Response> {
  const r = await res;
  if (!r.ok) throw new Error(`unleash ${what}: ${r.status} ${await r.text()}`);
  return r;
}

/**
 * Set a flag for one app instance (its unique appName) through Unleash's admin API, leaving every other
 * app on the flag's default. One strategy per flag holds the exceptions as an appName constraint
 * (IN for default-off flags, NOT_IN for default-on ones); edits serialize on an advisory lock because
 * test files run in parallel.
 */
export async function setFlag(name: FlagName, appName: string, value: boolean): Promise<void> {
  const lock = new pg.Client({ connectionString: `${PG_BASE}/postgres` });
  await lock.connect();
  try {
    await lock.query(`SELECT pg_advisory_lock(hashtext('boxoffice:unleash-admin'))`);
    const feature = `/projects/${PROJECT}/features/${name}`;
    let res = await call('GET', feature);
    if (res.status === 404) {
      await ok(call('POST', `/projects/${PROJECT}/features`, { name, type: 'release', description: 'boxoffice test' }), 'create');
      res = await call('GET', feature);
    }
    const doc = (await res.json()) as { environments: { name: string; enabled: boolean; strategies: Strategy[] }[] };
    const strategies = doc.environments.find((e) => e.name === ENV)?.strategies ?? [];
    const groupId = `${name}:boxoffice-test`;
    const ours = strategies.find((s) => s.parameters['groupId'] === groupId);
    const defaultOn = FLAGS[name].default;
    const exceptions = new Set((ours?.constraints[0]?.values ?? []).filter((v) => v !== NONE));
    if (value !== defaultOn) exceptions.add(appName);
    else exceptions.delete(appName);
    const body = {
      name: 'flexibleRollout',
      parameters: { rollout: '100', stickiness: 'default', groupId },
      constraints: [{ contextName: 'appName', operator: defaultOn ? 'NOT_IN' : 'IN', values: [...exceptions, NONE] }],
    };
    // order matters: Unleash turns an environment off when its last strategy goes, so add ours first
    if (ours) await ok(call('PUT', `${feature}/environments/${ENV}/strategies/${ours.id}`, body), 'update strategy');
    else await ok(call('POST', `${feature}/environments/${ENV}/strategies`, body), 'add strategy');
    // strategies `boxoffice cutover` made for other test apps (each titled with its app) stay
    for (const s of strategies) {
      if (s !== ours && !s.title?.startsWith('boxoffice cutover')) await ok(call('DELETE', `${feature}/environments/${ENV}/strategies/${s.id}`), 'delete strategy');
    }
    await ok(call('POST', `${feature}/environments/${ENV}/on`), 'enable');
  } finally {
    await lock.query(`SELECT pg_advisory_unlock(hashtext('boxoffice:unleash-admin'))`).catch(() => undefined);
    await lock.end();
  }
}

/** Wait until the app's Unleash client has polled the new value. */
export async function waitForFlag(flags: Flags, name: FlagName, expected: boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (flags.isEnabled(name) !== expected) {
    if (Date.now() > deadline) throw new Error(`flag ${name} did not become ${expected} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
