import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

export const FLAGS_YAML = fileURLToPath(new URL('../../feature-flags/flags.yaml', import.meta.url));

export const flagDefinitionSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'flag names are snake_case'),
  owner: z.enum(['auth', 'movie', 'booking', 'payment', 'notification', 'platform']),
  default: z.boolean(),
  phase: z.enum(['auth-decoupling', 'events', 'database', 'extraction', 'operations', 'observability']),
  description: z.string().min(10),
});

export type FlagDefinition = z.infer<typeof flagDefinitionSchema>;

/** Read and validate feature-flags/flags.yaml (names unique). */
export function readFlagCatalog(path = FLAGS_YAML): FlagDefinition[] {
  const doc = z.object({ flags: z.array(flagDefinitionSchema).min(1) }).parse(parse(readFileSync(path, 'utf8')));
  const seen = new Set<string>();
  for (const f of doc.flags) {
    if (seen.has(f.name)) throw new Error(`${path}: flag ${f.name} is listed twice`);
    seen.add(f.name);
  }
  return doc.flags;
}

/** The TypeScript module generated from the catalog (src/platform/flag-names.ts). */
export function renderFlagModule(flags: FlagDefinition[]): string {
  const lines = [
    '// GENERATED from feature-flags/flags.yaml by `npm run flags:gen` — do not edit by hand.',
    '// test/architecture/flags-catalog.test.ts fails when this file and the YAML disagree.',
    '',
    'export const FLAGS = {',
    ...flags.map(
      (f) =>
        `  ${f.name}: { owner: ${JSON.stringify(f.owner)}, default: ${f.default}, phase: ${JSON.stringify(f.phase)} },`,
    ),
    '} as const;',
    '',
    'export type FlagName = keyof typeof FLAGS;',
    '',
    'export const FLAG_NAMES = Object.keys(FLAGS) as FlagName[];',
    '',
    'export function isFlagName(name: string): name is FlagName {',
    '  return Object.hasOwn(FLAGS, name);',
    '}',
    '',
  ];
  return lines.join('\n');
}
