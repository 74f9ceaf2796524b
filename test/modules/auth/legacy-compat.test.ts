import { randomUUID } from 'node:crypto';
import bcrypt from 'bcryptjs';
import test from 'ava';
import { connectAs } from '../../helpers/db.ts';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { goodClaims, legacySecret, signHs256 } from '../../helpers/tokens.ts';

let app: TestApp;
test.before(async () => {
  app = await startTestApp({ unleash: true });
});
test.after.always(async () => {
  await app?.stop();
});

test.serial('a legacy bcrypt user logs in, and the hash is replaced by argon2id', async (t) => {
  const id = randomUUID();
  const email = `legacy-${id.slice(0, 8)}@example.com`;
  const client = await connectAs(app.db.url);
  try {
    await client.query(
      `INSERT INTO public.users (id, email, full_name, hashed_password, role, is_active) VALUES ($1, $2, 'Old Timer', $3, 'user', true)`,
      [id, email, await bcrypt.hash('old-system-pw1', 10)],
    );
    const wrong = await api(app.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'not-it-123' } });
    t.is(wrong.status, 401);
    t.regex((await client.query('SELECT hashed_password FROM public.users WHERE id = $1', [id])).rows[0].hashed_password, /^\$2[aby]\$/);
    const ok = await api(app.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'old-system-pw1' } });
    t.is(ok.status, 200);
    const { rows } = await client.query('SELECT hashed_password FROM public.users WHERE id = $1', [id]);
    t.regex(rows[0].hashed_password, /^\$argon2id\$/);
    t.is((await api(app.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'old-system-pw1' } })).status, 200);
    const audit = await client.query(`SELECT detail FROM auth.audit_log WHERE user_id = $1 AND action = 'password_rehashed'`, [id]);
    t.is(audit.rows.length, 1);
    t.is(audit.rows[0].detail.from, 'bcrypt');
  } finally {
    await client.end();
  }
});

test.serial('GET /api/v1/auth/verify (the old sync check) answers, and logs a deprecation once the flag is on', async (t) => {
  const { access, id, user } = await registerAndLogin(app.url);
  const before = await api(app.url, 'GET', '/api/v1/auth/verify', { token: access });
  t.is(before.status, 200);
  t.like(before.body, { valid: true, user_id: id, email: user.email, role: 'user' });
  t.is(before.headers.get('deprecation'), null);
  t.is((await api(app.url, 'GET', '/api/v1/auth/verify', { token: 'bad.token.here' })).status, 401);

  const lines: string[] = [];
  const warn = app.app.logger.warn.bind(app.app.logger);
  (app.app.logger as { warn: unknown }).warn = (obj: unknown, msg?: string) => {
    lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
    return warn(obj as never, msg as never);
  };
  try {
    await app.setFlag('disable_verify_endpoint', true);
    const after = await api(app.url, 'GET', '/api/v1/auth/verify', { token: access, headers: { 'user-agent': 'old-booking-service/1.0' } });
    t.is(after.status, 200, 'still served: callers are found before it goes');
    t.is(after.headers.get('deprecation'), 'true');
    t.true(lines.some((l) => l.includes('deprecated') && l.includes('old-booking-service/1.0')), lines.join('\n'));
    const metrics = await api(app.url, 'GET', '/metrics');
    t.regex(metrics.body, /auth_verify_endpoint_calls_total\{result="valid"\} [2-9]/);
  } finally {
    (app.app.logger as { warn: unknown }).warn = warn;
    await app.setFlag('disable_verify_endpoint', false);
  }
});

test.serial('HS256 tokens are accepted until accept_legacy_hs256_tokens is turned off', async (t) => {
  const { id, user } = await registerAndLogin(app.url);
  const token = signHs256({}, goodClaims(id, user.email), legacySecret(app.env['JWT_KEYS_DIR']!));
  t.is((await api(app.url, 'GET', '/api/v1/auth/me', { token })).status, 200);
  await app.setFlag('accept_legacy_hs256_tokens', false);
  try {
    const refused = await api(app.url, 'GET', '/api/v1/auth/me', { token });
    t.is(refused.status, 401);
    t.is(refused.body.reason, 'alg_not_allowed');
  } finally {
    await app.setFlag('accept_legacy_hs256_tokens', true);
  }
  t.is((await api(app.url, 'GET', '/api/v1/auth/me', { token })).status, 200);
});

test.serial('use_local_jwt flips the token check between the per-request call and the local JWKS check', async (t) => {
  const { access } = await registerAndLogin(app.url);
  const count = async (path: string) => {
    const m = (await api(app.url, 'GET', '/metrics')).body as string;
    return Number(new RegExp(`auth_token_checks_total\\{path="${path}",result="ok"\\} (\\d+)`).exec(m)?.[1] ?? 0);
  };
  const remote0 = await count('remote');
  await api(app.url, 'GET', '/api/v1/auth/me', { token: access });
  t.is(await count('remote'), remote0 + 1);
  await app.setFlag('use_local_jwt', true);
  try {
    const local0 = await count('local');
    await api(app.url, 'GET', '/api/v1/auth/me', { token: access });
    t.is(await count('local'), local0 + 1);
    t.is(await count('remote'), remote0 + 1);
  } finally {
    await app.setFlag('use_local_jwt', false);
  }
});
