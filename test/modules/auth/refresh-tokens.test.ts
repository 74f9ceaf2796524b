import test from 'ava';
import { connectAs } from '../../helpers/db.ts';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';

let app: TestApp;
test.before(async () => {
  app = await startTestApp();
});
test.after.always(async () => {
  await app?.stop();
});

const refresh = (token: string) => api(app.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: token } });

test('each refresh rotates: the new token works, the old one is spent', async (t) => {
  const { refresh: first } = await registerAndLogin(app.url);
  const second = await refresh(first);
  t.is(second.status, 200);
  const third = await refresh(second.body.refresh_token);
  t.is(third.status, 200);
  t.not(third.body.refresh_token, second.body.refresh_token);
});

test('reusing a rotated token revokes the whole family, including the newest token', async (t) => {
  const { refresh: first, id } = await registerAndLogin(app.url);
  const second = await refresh(first);
  t.is(second.status, 200);
  const reuse = await refresh(first);
  t.is(reuse.status, 401);
  t.regex(reuse.body.detail, /already used/);
  const newest = await refresh(second.body.refresh_token);
  t.is(newest.status, 401, 'the thief and the user are both logged out of this session');
  const client = await connectAs(app.db.url);
  try {
    const { rows } = await client.query(`SELECT action FROM auth.audit_log WHERE user_id = $1 AND action = 'refresh_token_reuse'`, [id]);
    t.is(rows.length, 1);
  } finally {
    await client.end();
  }
});

test('a second login is a separate family: reuse in one does not log out the other', async (t) => {
  const a = await registerAndLogin(app.url);
  const b = await api(app.url, 'POST', '/api/v1/auth/login', { body: { email: a.user.email, password: a.user.password } });
  await refresh(a.refresh);
  await refresh(a.refresh); // reuse → family A revoked
  t.is((await refresh(b.body.refresh_token)).status, 200);
});

test('concurrent refreshes of one token: exactly one succeeds', async (t) => {
  const { refresh: token } = await registerAndLogin(app.url);
  const results = await Promise.all(Array.from({ length: 10 }, () => refresh(token)));
  const statuses = results.map((r) => r.status).sort();
  t.is(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
  t.is(statuses.filter((s) => s === 401).length, 9);
});

test('unknown, malformed and missing tokens', async (t) => {
  t.is((await refresh('x'.repeat(43))).status, 401);
  const short = await refresh('abc');
  t.is(short.status, 422);
  t.is(short.body.errors[0].field, 'refresh_token');
  const missing = await api(app.url, 'POST', '/api/v1/auth/refresh', { body: {} });
  t.is(missing.status, 422);
  t.is((await api(app.url, 'POST', '/api/v1/auth/logout', { body: { refresh_token: 'y'.repeat(43) } })).status, 204);
});

test('refresh tokens are stored hashed, never in the clear', async (t) => {
  const { refresh: token, id } = await registerAndLogin(app.url);
  const client = await connectAs(app.db.url);
  try {
    const { rows } = await client.query(`SELECT token_hash FROM auth.refresh_tokens WHERE user_id = $1`, [id]);
    t.is(rows.length, 1);
    t.is(rows[0].token_hash.length, 32);
    t.false(rows[0].token_hash.toString('utf8').includes(token));
    const { rows: leak } = await client.query(`SELECT count(*)::int AS n FROM auth.refresh_tokens WHERE encode(token_hash, 'escape') LIKE $1`, [`%${token}%`]);
    t.is(leak[0].n, 0);
  } finally {
    await client.end();
  }
});
