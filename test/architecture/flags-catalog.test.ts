import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { readFlagCatalog, renderFlagModule } from '../../src/platform/flag-catalog.ts';
import { FLAG_NAMES } from '../../src/platform/flag-names.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

test('flag-names.ts is exactly what flags.yaml generates', (t) => {
  const generated = renderFlagModule(readFlagCatalog());
  t.is(readFileSync(`${root}src/platform/flag-names.ts`, 'utf8'), generated, 'run npm run flags:gen');
});

test('the catalog names every flag of the design brief and seed 002', (t) => {
  const names = new Set(FLAG_NAMES as string[]);
  const expected = [
    'use_rs256_tokens', 'use_local_jwt', 'disable_verify_endpoint', 'publish_booking_events', 'consume_booking_events',
    'verify_booking_snapshot', 'use_booking_snapshot',
  ];
  for (const m of ['auth', 'movie', 'booking', 'payment', 'notification']) {
    expected.push(`dual_write_${m}_db`, `verify_${m}_reads`, `read_from_new_${m}_db`, `stop_legacy_writes_${m}`, `route_${m}_to_service`);
  }
  for (const name of expected) t.true(names.has(name), name);
});

test('a misspelt flag name is a compile error', async (t) => {
  const tsc = `${root}node_modules/typescript/bin/tsc`;
  const result = await run(process.execPath, [tsc, '-p', 'test/fixtures/flag-typo/tsconfig.json'], { cwd: root }).then(
    () => ({ code: 0, stdout: '' }),
    (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
  );
  t.not(result.code, 0);
  t.regex(result.stdout, /typo\.ts.*TS2345.*"use_rs256_token"/s);
});
