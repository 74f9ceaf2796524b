import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from '@koa/router';
import { z } from 'zod';
import type { ServiceCredential } from '../../platform/auth/service-credential.ts';
import { MODULE_SCHEMAS, type ModuleName } from '../../platform/config.ts';
import type { Databases } from '../../platform/db.ts';
import { MIGRATIONS_DIR } from '../../platform/migrate.ts';

export const ABOUT_PATH = '/internal/v1/platform/about';

/** What a process says about itself to `boxoffice cutover` (behind the service credential). */
export interface ProcessAbout {
  modules: readonly ModuleName[];
  /** per hosted module: the latest migration applied to its schema in the database it uses */
  migrations: Partial<Record<ModuleName, string | null>>;
}

const aboutSchema = z.object({
  modules: z.array(z.string()),
  migrations: z.record(z.string(), z.string().nullable()),
});

/** `GET /internal/v1/platform/about`: the hosted modules and their schemas' migration versions. */
export function aboutRouter(options: { modules: readonly ModuleName[]; databases: Databases }): Router {
  const router = new Router();
  router.get(ABOUT_PATH, async (ctx) => {
    const migrations: ProcessAbout['migrations'] = {};
    for (const m of options.modules) {
      const schema = MODULE_SCHEMAS[m];
      const rows = (await options.databases.forModule(m).raw(`SELECT name FROM "${schema}".knex_migrations ORDER BY id DESC LIMIT 1`)) as { rows: { name: string }[] };
      migrations[m] = rows.rows[0]?.name ?? null;
    }
    ctx.body = { modules: options.modules, migrations } satisfies ProcessAbout;
  });
  return router;
}

/** The latest migration of a module's schema that this release ships. */
export function shippedMigration(module: ModuleName, dir = MIGRATIONS_DIR): string | null {
  let files: string[];
  try {
    files = readdirSync(join(dir, MODULE_SCHEMAS[module]));
  } catch {
    return null;
  }
  const last = files.filter((f) => /^\d{4}_[a-z0-9_]+\.ts$/.test(f)).sort().at(-1);
  return last ? last.replace(/\.ts$/, '') : null;
}

export interface ServiceCheck {
  ok: boolean;
  detail: string;
}

export type ServiceProbe = (module: ModuleName) => Promise<ServiceCheck>;

/**
 * The `service_ready` guard of EXTRACTED: the module's own deployment answers /health/ready, hosts the
 * module, and its schema is at the migration this release ships — traffic must not move to a process
 * that cannot serve it or that runs against an older schema.
 */
export function serviceProbe(options: { serviceUrls: Partial<Record<ModuleName, string>>; credential: ServiceCredential; timeoutMs?: number; migrationsDir?: string }): ServiceProbe {
  const timeoutMs = options.timeoutMs ?? 3_000;
  return async (module) => {
    const base = options.serviceUrls[module];
    if (!base) return { ok: false, detail: `SERVICE_URL_${module.toUpperCase()} is not set: where does ${module}'s own deployment answer?` };
    try {
      const ready = await fetch(new URL('/health/ready', base), { signal: AbortSignal.timeout(timeoutMs) });
      await ready.body?.cancel();
      if (!ready.ok) return { ok: false, detail: `${base} is not ready (/health/ready answered ${ready.status})` };
      const res = await fetch(new URL(ABOUT_PATH, base), { headers: { authorization: `Bearer ${await options.credential.token()}`, accept: 'application/json' }, signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) {
        await res.body?.cancel();
        return { ok: false, detail: `${base} refused ${ABOUT_PATH} (${res.status}): is INTERNAL_API_SECRET the same in both deployments?` };
      }
      const about = aboutSchema.safeParse(await res.json().catch(() => undefined));
      if (!about.success) return { ok: false, detail: `${base} answered ${ABOUT_PATH} with something else (is it a boxoffice process?)` };
      if (!about.data.modules.includes(module)) return { ok: false, detail: `${base} does not host ${module} (MODULES=${about.data.modules.join(',') || 'none'})` };
      const applied = about.data.migrations[module] ?? null;
      const shipped = shippedMigration(module, options.migrationsDir);
      if (applied !== shipped) return { ok: false, detail: `${base} runs ${module}'s schema at ${applied ?? 'no migration'}, this release ships ${shipped ?? 'none'}: run \`boxoffice migrate\` against its database` };
      return { ok: true, detail: `${base} is ready, hosts ${module}, schema at ${applied ?? 'no migration'}` };
    } catch (err) {
      return { ok: false, detail: `${base} did not answer: ${err instanceof Error ? err.message : String(err)}` };
    }
  };
}
