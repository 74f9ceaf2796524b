import type { Command } from 'commander';
import { readFlagCatalog } from '../../platform/flag-catalog.ts';
import { createFlags, type FlagName } from '../../platform/flags.ts';
import { cliContext, CliError } from '../context.ts';

async function unleashAdmin(baseUrl: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${baseUrl.replace(/\/$/, '')}/admin${path}`, {
    method,
    headers: { Authorization: token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return res;
}

export function registerFlags(program: Command): void {
  const flags = program.command('flags').description('feature flags (feature-flags/flags.yaml)');

  flags
    .command('list')
    .description('every flag with its owner, default and current value (from Unleash when UNLEASH_URL is set)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { config, logger, out } = cliContext();
      const client = createFlags({
        url: config.UNLEASH_URL,
        apiToken: config.UNLEASH_API_TOKEN,
        appName: `${config.UNLEASH_APP_NAME}-cli`,
        environment: config.UNLEASH_ENVIRONMENT,
        refreshIntervalMs: 60_000,
        overrides: config.FLAGS_BOOTSTRAP,
        logger,
      });
      const synced = await client.waitUntilSynchronized(5_000);
      const rows = readFlagCatalog().map((f) => ({
        name: f.name,
        owner: f.owner,
        phase: f.phase,
        default: f.default,
        value: client.isEnabled(f.name as FlagName),
      }));
      await client.close();
      if (opts.json) {
        out(JSON.stringify({ source: synced ? 'unleash' : 'bootstrap', flags: rows }, null, 2));
        return;
      }
      out(`source: ${synced ? `unleash (${config.UNLEASH_URL})` : 'bootstrap values (flags.yaml defaults + FLAGS_BOOTSTRAP)'}`);
      for (const r of rows) {
        out(`${r.value ? 'on ' : 'off'}  ${r.name.padEnd(30)} ${r.owner.padEnd(13)} ${r.phase.padEnd(16)} default ${r.default ? 'on' : 'off'}`);
      }
    });

  flags
    .command('sync')
    .description('create in Unleash every flag of flags.yaml that it does not have yet (existing flags are left alone)')
    .option('--project <project>', 'Unleash project', 'default')
    .action(async (opts: { project: string }) => {
      const { config, out } = cliContext();
      const token = process.env['UNLEASH_ADMIN_TOKEN'];
      if (!config.UNLEASH_URL) throw new CliError('UNLEASH_URL is not set', 2);
      if (!token) throw new CliError('UNLEASH_ADMIN_TOKEN (an admin API token) is required to create flags', 2);
      let created = 0;
      for (const flag of readFlagCatalog()) {
        const exists = await unleashAdmin(config.UNLEASH_URL, token, 'GET', `/projects/${opts.project}/features/${flag.name}`);
        if (exists.ok) continue;
        if (exists.status !== 404) throw new CliError(`Unleash answered ${exists.status} for ${flag.name}`);
        const res = await unleashAdmin(config.UNLEASH_URL, token, 'POST', `/projects/${opts.project}/features`, {
          name: flag.name,
          type: flag.phase === 'operations' || flag.phase === 'observability' ? 'operational' : 'release',
          description: `[${flag.owner}] ${flag.description}`,
        });
        if (!res.ok) throw new CliError(`could not create ${flag.name}: ${res.status} ${await res.text()}`);
        if (flag.default) {
          const on = await unleashAdmin(
            config.UNLEASH_URL,
            token,
            'POST',
            `/projects/${opts.project}/features/${flag.name}/environments/${config.UNLEASH_ENVIRONMENT}/on`,
          );
          if (!on.ok) throw new CliError(`could not enable ${flag.name}: ${on.status}`);
        }
        created++;
        out(`created ${flag.name} (${flag.default ? 'on' : 'off'})`);
      }
      out(created === 0 ? 'Unleash already has every flag' : `created ${created} flag(s)`);
    });
}
