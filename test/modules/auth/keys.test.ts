import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';
import { composeApp } from '../../../src/compose.ts';
import { loadConfig } from '../../../src/platform/config.ts';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { connectAs } from '../../helpers/db.ts';

const run = promisify(execFile);
let app: TestApp;
test.before(async () => {
  app = await startTestApp({ env: { FLAGS_BOOTSTRAP: 'use_rs256_tokens=true,use_local_jwt=true', JWT_KEYS_RELOAD_MS: '100' } });
});
test.after.always(async () => {
  await app?.stop();
});

const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;

test.serial('dev keys are generated at first start: one active RS256 key, owner-only file', async (t) => {
  const file = JSON.parse(await readFile(join(app.env['JWT_KEYS_DIR']!, 'signing-keys.json'), 'utf8'));
  t.is(file.keys.length, 1);
  t.is(file.keys[0].status, 'active');
  const { stdout } = await run('stat', ['-c', '%a', join(app.env['JWT_KEYS_DIR']!, 'signing-keys.json')]);
  t.is(stdout.trim(), '600');
});

test.serial('JWKS serves public keys only, with cache headers and a working ETag', async (t) => {
  const res = await api(app.url, 'GET', '/.well-known/jwks.json');
  t.is(res.status, 200);
  t.regex(res.headers.get('cache-control') ?? '', /public, max-age=300/);
  t.is(res.body.keys.length, 1);
  const key = res.body.keys[0];
  t.like(key, { kty: 'RSA', alg: 'RS256', use: 'sig' });
  for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi']) t.false(secret in key, `private member ${secret} leaked`);
  const etag = res.headers.get('etag')!;
  t.truthy(etag);
  t.is((await api(app.url, 'GET', '/.well-known/jwks.json', { headers: { 'if-none-match': etag } })).status, 304);
});

test.serial('keys rotate: new tokens use the new kid, old tokens keep verifying, both keys are published', async (t) => {
  const before = await registerAndLogin(app.url);
  const oldKid = kidOf(before.access);
  const { stdout } = await run(process.execPath, ['bin/boxoffice.js', 'keys', 'rotate', '--overlap', '3600'], {
    env: { ...process.env, ...app.env },
  });
  const newKid = /active key: (\S+)/.exec(stdout)?.[1];
  t.truthy(newKid);
  t.not(newKid, oldKid);
  t.regex(stdout, new RegExp(`still published until .*: ${oldKid}`));
  // the running app notices the file change by itself (no restart)
  const deadline = Date.now() + 5_000;
  let jwks = await api(app.url, 'GET', '/.well-known/jwks.json');
  while (jwks.body.keys.length < 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    jwks = await api(app.url, 'GET', '/.well-known/jwks.json');
  }
  t.deepEqual(jwks.body.keys.map((k: { kid: string }) => k.kid).sort(), [newKid, oldKid].sort());
  const after = await registerAndLogin(app.url);
  t.is(kidOf(after.access), newKid!);
  t.is((await api(app.url, 'GET', '/api/v1/auth/me', { token: before.access })).status, 200, 'old token still valid');
  t.is((await api(app.url, 'GET', '/api/v1/auth/me', { token: after.access })).status, 200);
  const client = await connectAs(app.db.url);
  try {
    const { rows } = await client.query(`SELECT detail FROM auth.audit_log WHERE action = 'key_rotated'`);
    t.is(rows.length, 1);
    t.is(rows[0].detail.activeKid, newKid);
  } finally {
    await client.end();
  }
});

test.serial('a rotation whose overlap is shorter than the token TTL is refused', async (t) => {
  const err = await run(process.execPath, ['bin/boxoffice.js', 'keys', 'rotate', '--overlap', '60', '--no-audit'], {
    env: { ...process.env, ...app.env },
  }).then(() => undefined, (e: { code: number; stderr: string }) => e);
  t.is(err?.code, 2);
  t.regex(err?.stderr ?? '', /overlap \(60s\) must be at least the access-token TTL \(900s\)/);
});

test('production refuses to start without mounted keys, naming where they are expected', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bo-nokeys-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config = loadConfig({ NODE_ENV: 'production', DATABASE_URL: app.db.url, JWT_KEYS_DIR: dir, LOG_LEVEL: 'silent' });
  await t.throwsAsync(composeApp(config), { message: new RegExp(`no signing keys at ${dir}/signing-keys.json`) });
});
