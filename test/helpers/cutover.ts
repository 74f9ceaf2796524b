import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CutoverDeps } from '../../src/migration/cutover/cutover.ts';
import { unleashFlagStore } from '../../src/migration/cutover/flag-store.ts';
import { loadPlan } from '../../src/migration/cutover/plan.ts';
import { MODULE_NAMES } from '../../src/platform/config.ts';
import { MODULE_REGISTRY } from '../../src/module-registry.ts';
import type { TestApp } from './app.ts';
import { unleashTestEnv } from './unleash.ts';

/** A test's cutover plan (YAML text) as a file of its own, as `loadPlan` and `CUTOVER_PLAN` take it. */
export async function writePlan(yaml: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'bo-plan-')), 'plan.yaml');
  await writeFile(path, yaml);
  return path;
}

/** What `boxoffice cutover` works with, for a test app: its flags in the test Unleash, every module's mapping. */
export function cutoverDepsFor(app: TestApp, planPath: string): CutoverDeps {
  const { url, adminToken } = unleashTestEnv();
  return {
    db: app.app.databases.forRole('migration', 'migration'),
    flags: unleashFlagStore({ url, token: adminToken, appName: app.env['UNLEASH_APP_NAME']!, environment: 'development' }),
    plan: loadPlan(planPath),
    mappings: new Map(MODULE_NAMES.map((m) => [m, MODULE_REGISTRY[m].mapping(app.app.config)])),
    separateDatabases: new Set(),
  };
}
