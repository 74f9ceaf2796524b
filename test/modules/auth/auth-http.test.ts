import test from 'ava';
import { connectAs } from '../../helpers/db.ts';
import { api, newUser, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';

const apps: Record<'legacy' | 'own', TestApp> = {} as never;
test.before(async () => {
  apps.legacy = await startTestApp({ env: { STORE_AUTH: 'legacy' } });
  apps.own = await startTestApp({ env: { STORE_AUTH: 'own' } });
});
test.after.always(async () => {
  await Promise.all(Object.values(apps).map((a) => a?.stop()));
});

for (const store of ['legacy', 'own'] as const) {
  test(`[${store}] register → login → me → refresh → logout, with the contract's shapes`, async (t) => {
    const { url } = apps[store];
    const user = newUser();
    const reg = await api(url, 'POST', '/api/v1/auth/register', { body: { ...user, email: user.email.toUpperCase() } });
    t.is(reg.status, 201);
    t.like(reg.body, { email: user.email, full_name: user.full_name, role: 'user' });
    t.regex(reg.body.id, /^[0-9a-f-]{36}$/);
    t.false('password' in reg.body || 'password_hash' in reg.body);

    const login = await api(url, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    t.is(login.status, 200);
    t.is(login.body.token_type, 'bearer');
    t.is(login.body.expires_in, 900);
    t.is(login.headers.get('cache-control'), 'no-store');
    t.is(typeof login.body.access_token, 'string');
    t.is(typeof login.body.refresh_token, 'string');
    const claims = JSON.parse(Buffer.from(login.body.access_token.split('.')[1], 'base64url').toString());
    t.like(claims, { sub: reg.body.id, email: user.email, roles: ['user'], iss: 'boxoffice-auth', aud: 'boxoffice-api' });
    t.is(claims.exp - claims.iat, 900);

    const me = await api(url, 'GET', '/api/v1/auth/me', { token: login.body.access_token });
    t.is(me.status, 200);
    t.is(me.body.id, reg.body.id);

    const refreshed = await api(url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: login.body.refresh_token } });
    t.is(refreshed.status, 200);
    t.not(refreshed.body.refresh_token, login.body.refresh_token);
    t.is((await api(url, 'GET', '/api/v1/auth/me', { token: refreshed.body.access_token })).status, 200);

    t.is((await api(url, 'POST', '/api/v1/auth/logout', { body: { refresh_token: refreshed.body.refresh_token } })).status, 204);
    const afterLogout = await api(url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: refreshed.body.refresh_token } });
    t.is(afterLogout.status, 401);
    t.is(afterLogout.body.type, 'urn:boxoffice:problem:invalid-refresh-token');
  });

  test(`[${store}] an existing email is 409 whatever its case`, async (t) => {
    const { url } = apps[store];
    const user = newUser();
    t.is((await api(url, 'POST', '/api/v1/auth/register', { body: user })).status, 201);
    const again = await api(url, 'POST', '/api/v1/auth/register', { body: { ...user, email: ` ${user.email.toUpperCase()} ` } });
    t.is(again.status, 409);
    t.is(again.body.type, 'urn:boxoffice:problem:email-taken');
    t.is(again.body.field, 'email');
  });
}

test('bad input is 422 naming the field', async (t) => {
  const { url } = apps.legacy;
  const cases: [Record<string, unknown>, string][] = [
    [{ ...newUser(), email: 'not-an-email' }, 'email'],
    [{ ...newUser(), password: 'short1' }, 'password'],
    [{ ...newUser(), password: 'onlyletterslong' }, 'password'],
    [{ ...newUser(), password: 'password123' }, 'password'],
    [{ ...newUser(), password: 'aaaaaaaa1111' }, 'password'],
    [{ email: newUser().email, password: 'Str0ng-enough' }, 'full_name'],
    [{ ...newUser(), full_name: 42 }, 'full_name'],
  ];
  for (const [body, field] of cases) {
    const res = await api(url, 'POST', '/api/v1/auth/register', { body });
    t.is(res.status, 422, JSON.stringify(body));
    t.is(res.body.type, 'urn:boxoffice:problem:validation-error');
    t.deepEqual(res.body.errors.map((e: { field: string }) => e.field), [field], JSON.stringify(body));
  }
  const login = await api(url, 'POST', '/api/v1/auth/login', { body: { email: 'x@y.z' } });
  t.is(login.status, 422);
  t.is(login.body.errors[0].field, 'password');
});

test('wrong password and unknown email get the same 401 body', async (t) => {
  const { url } = apps.legacy;
  const { user } = await registerAndLogin(url);
  const wrong = await api(url, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: 'Wr0ng-password' } });
  const unknown = await api(url, 'POST', '/api/v1/auth/login', { body: { email: `nobody-${user.email}`, password: 'Wr0ng-password' } });
  t.is(wrong.status, 401);
  t.is(unknown.status, 401);
  t.deepEqual(wrong.body, unknown.body);
  t.is(wrong.body.type, 'urn:boxoffice:problem:invalid-credentials');
});

test('registration writes user.created to auth.outbox in the same transaction, with the request correlation id', async (t) => {
  const { url, db } = apps.own;
  const user = newUser();
  const reg = await api(url, 'POST', '/api/v1/auth/register', { body: user, headers: { 'x-correlation-id': 'corr-register-1' } });
  t.is(reg.status, 201);
  const dup = await api(url, 'POST', '/api/v1/auth/register', { body: user });
  t.is(dup.status, 409);
  const client = await connectAs(db.url);
  try {
    const { rows } = await client.query(
      `SELECT event_type, envelope FROM auth.outbox WHERE envelope->'payload'->>'user_id' = $1 OR envelope->'payload'->>'email' = $2`,
      [reg.body.id, user.email],
    );
    t.is(rows.length, 1, 'one event, and none for the refused duplicate');
    const env = rows[0].envelope;
    t.is(rows[0].event_type, 'user.created');
    t.like(env, { event_type: 'user.created', event_version: '1.0', source: 'auth', correlation_id: 'corr-register-1' });
    t.like(env.payload, { user_id: reg.body.id, email: user.email, full_name: user.full_name, role: 'user' });
    t.regex(env.event_id, /^[0-9a-f-]{36}$/);
  } finally {
    await client.end();
  }
});

test('the audit log records registrations, logins and failures', async (t) => {
  const { url, db } = apps.own;
  const { user, id } = await registerAndLogin(url);
  await api(url, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: 'Wr0ng-password' }, headers: { 'user-agent': 'audit-test' } });
  const client = await connectAs(db.url);
  try {
    const { rows } = await client.query(`SELECT action, outcome, detail, user_agent FROM auth.audit_log WHERE user_id = $1 ORDER BY id`, [id]);
    t.deepEqual(rows.map((r) => `${r.action}:${r.outcome}`), ['register:success', 'login:success', 'login:failure']);
    t.is(rows[2].detail.reason, 'bad_password');
    t.is(rows[2].user_agent, 'audit-test');
  } finally {
    await client.end();
  }
});

test('/me without a token, or with junk, is a 401 problem with WWW-Authenticate', async (t) => {
  const { url } = apps.legacy;
  const none = await api(url, 'GET', '/api/v1/auth/me');
  t.is(none.status, 401);
  t.is(none.headers.get('www-authenticate'), 'Bearer error="invalid_token"');
  t.true(none.headers.get('content-type')?.startsWith('application/problem+json'));
  const junk = await api(url, 'GET', '/api/v1/auth/me', { token: 'not.a.jwt' });
  t.is(junk.status, 401);
  const scheme = await api(url, 'GET', '/api/v1/auth/me', { headers: { authorization: 'Basic abc' } });
  t.is(scheme.status, 401);
});
