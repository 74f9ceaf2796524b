/**
 * Generate src/platform/flag-names.ts from feature-flags/flags.yaml.
 *   npm run flags:gen            # write it
 *   node scripts/gen-flags.ts --check   # fail (exit 1) when the committed file is stale (npm run lint)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFlagCatalog, renderFlagModule } from '../src/platform/flag-catalog.ts';

const target = fileURLToPath(new URL('../src/platform/flag-names.ts', import.meta.url));
const flags = readFlagCatalog();
const rendered = renderFlagModule(flags);
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== rendered) {
    process.stderr.write('src/platform/flag-names.ts is stale: run `npm run flags:gen`\n');
    process.exit(1);
  }
  process.stdout.write(`flag-names.ts matches flags.yaml (${flags.length} flags)\n`);
} else {
  writeFileSync(target, rendered);
  process.stdout.write(`wrote ${flags.length} flags to ${target}\n`);
}
