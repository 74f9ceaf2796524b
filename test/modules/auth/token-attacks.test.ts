import test from 'ava';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { activeKey, freshRsaKey, goodClaims, legacySecret, signHs256, signRs256, unsigned } from '../../helpers/tokens.ts';

/** Two apps: one validates tokens locally (JWKS), one with the old per-request check through the auth facade. */
const paths: Record<'local' | 'remote', TestApp> = {} as never;
const users: Record<'local' | 'remote', { id: string; email: string }> = {} as never;
test.before(async () => {
  paths.local = await startTestApp({ env: { FLAGS_BOOTSTRAP: 'use_local_jwt=true' } });
  paths.remote = await startTestApp({ env: { FLAGS_BOOTSTRAP: 'use_local_jwt=false' } });
  for (const p of ['local', 'remote'] as const) {
    const r = await registerAndLogin(paths[p].url);
    users[p] = { id: r.id, email: r.user.email };
  }
});
test.after.always(async () => {
  await Promise.all(Object.values(paths).map((a) => a?.stop()));
});

interface Case {
  name: string;
  reason?: string;
  token: (app: TestApp, user: { id: string; email: string }) => string;
  status: number;
}

const now = () => Math.floor(Date.now() / 1000);
const cases: Case[] = [
  { name: 'a valid RS256 token (control)', status: 200, token: (a, u) => signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid }, goodClaims(u.id, u.email), activeKey(a.env['JWT_KEYS_DIR']!).privateKey) },
  { name: 'a valid legacy HS256 token (control)', status: 200, token: (a, u) => signHs256({}, goodClaims(u.id, u.email), legacySecret(a.env['JWT_KEYS_DIR']!)) },
  { name: 'alg none with an empty signature', status: 401, reason: 'malformed', token: (_a, u) => unsigned({ alg: 'none', typ: 'JWT' }, goodClaims(u.id, u.email)) },
  { name: 'alg none with a junk signature', status: 401, reason: 'alg_not_allowed', token: (_a, u) => unsigned({ alg: 'none', typ: 'JWT' }, goodClaims(u.id, u.email), 'c2ln') },
  { name: 'HS256 signed with the RSA public key (algorithm confusion)', status: 401, reason: 'bad_signature', token: (a, u) => signHs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid }, goodClaims(u.id, u.email), activeKey(a.env['JWT_KEYS_DIR']!).publicPem) },
  { name: 'an unknown kid', status: 401, reason: 'unknown_kid', token: (_a, u) => signRs256({ kid: 'not-a-key-we-have' }, goodClaims(u.id, u.email), freshRsaKey().privateKey) },
  { name: 'RS256 without a kid', status: 401, reason: 'unknown_kid', token: (a, u) => signRs256({}, goodClaims(u.id, u.email), activeKey(a.env['JWT_KEYS_DIR']!).privateKey) },
  { name: 'an embedded jwk (attacker key)', status: 401, reason: 'embedded_key', token: (_a, u) => { const k = freshRsaKey(); return signRs256({ kid: 'x', jwk: k.jwk }, goodClaims(u.id, u.email), k.privateKey); } },
  { name: 'a jku pointing elsewhere', status: 401, reason: 'embedded_key', token: (a, u) => signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid, jku: 'https://evil.example/jwks.json' }, goodClaims(u.id, u.email), activeKey(a.env['JWT_KEYS_DIR']!).privateKey) },
  { name: 'an x5c chain', status: 401, reason: 'embedded_key', token: (a, u) => signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid, x5c: ['MIIB'] }, goodClaims(u.id, u.email), activeKey(a.env['JWT_KEYS_DIR']!).privateKey) },
  { name: 'expired', status: 401, reason: 'expired', token: (a, u) => signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid }, goodClaims(u.id, u.email, { iat: now() - 3600, nbf: now() - 3600, exp: now() - 60 }), activeKey(a.env['JWT_KEYS_DIR']!).privateKey) },
  { name: 'nbf in the future', status: 401, reason: 'not_yet_valid', token: (a, u) => signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid }, goodClaims(u.id, u.email, { nbf: now() + 600 }), activeKey(a.env['JWT_KEYS_DIR']!).privateKey) },
  { name: 'wrong issuer', status: 401, reason: 'wrong_issuer', token: (a, u) => signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid }, goodClaims(u.id, u.email, { iss: 'someone-else' }), activeKey(a.env['JWT_KEYS_DIR']!).privateKey) },
  { name: 'wrong audience', status: 401, reason: 'wrong_audience', token: (a, u) => signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid }, goodClaims(u.id, u.email, { aud: ['another-api'] }), activeKey(a.env['JWT_KEYS_DIR']!).privateKey) },
  { name: 'missing exp', status: 401, reason: 'missing_claim', token: (a, u) => { const c = goodClaims(u.id, u.email); delete c['exp']; return signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid }, c, activeKey(a.env['JWT_KEYS_DIR']!).privateKey); } },
  { name: 'a tampered payload (roles: admin) under the original signature', status: 401, reason: 'bad_signature', token: (a, u) => { const good = signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid }, goodClaims(u.id, u.email), activeKey(a.env['JWT_KEYS_DIR']!).privateKey).split('.'); const forged = Buffer.from(JSON.stringify(goodClaims(u.id, u.email, { roles: ['admin'] }))).toString('base64url'); return `${good[0]}.${forged}.${good[2]}`; } },
  // a validly signed token is still input: its sub becomes a user id in queries (this was a 500)
  { name: 'a validly signed token whose sub is not a UUID', status: 401, reason: 'invalid_claim', token: (a, u) => signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid }, goodClaims('admin', u.email), activeKey(a.env['JWT_KEYS_DIR']!).privateKey) },
  { name: 'a legacy HS256 token whose sub is a number', status: 401, reason: 'invalid_claim', token: (a, u) => signHs256({}, goodClaims(42 as never, u.email), legacySecret(a.env['JWT_KEYS_DIR']!)) },
  { name: 'a validly signed token whose email holds a NUL', status: 401, reason: 'invalid_claim', token: (a, u) => signRs256({ kid: activeKey(a.env['JWT_KEYS_DIR']!).kid }, goodClaims(u.id, 'a\u0000b@x.com'), activeKey(a.env['JWT_KEYS_DIR']!).privateKey) },
  { name: 'HS256 signed with a guessed secret', status: 401, reason: 'bad_signature', token: (_a, u) => signHs256({}, goodClaims(u.id, u.email), 'secret') },
];

for (const path of ['local', 'remote'] as const) {
  for (const c of cases) {
    test(`[${path} check] ${c.name} → ${c.status}`, async (t) => {
      const app = paths[path];
      const res = await api(app.url, 'GET', '/api/v1/auth/me', { token: c.token(app, users[path]) });
      t.is(res.status, c.status, JSON.stringify(res.body));
      if (c.status === 401) {
        t.is(res.body.type, 'urn:boxoffice:problem:invalid-token');
        t.is(res.body.reason, c.reason);
        t.true(res.headers.get('content-type')?.startsWith('application/problem+json'));
      }
    });
  }
}

test('a validly signed token with a non-UUID sub is a 401 on /bookings too, on both check paths', async (t) => {
  for (const path of ['local', 'remote'] as const) {
    const app = paths[path];
    const key = activeKey(app.env['JWT_KEYS_DIR']!);
    const token = signRs256({ kid: key.kid }, goodClaims('not-a-uuid', users[path].email), key.privateKey);
    const res = await api(app.url, 'GET', '/api/v1/bookings', { token });
    t.is(res.status, 401, `${path}: ${JSON.stringify(res.body)}`);
    t.is(res.body.reason, 'invalid_claim');
  }
});

test('the local path validates without calling auth per request; the remote path calls it every time', async (t) => {
  for (const path of ['local', 'remote'] as const) {
    const { app } = paths[path];
    const facade = app.facades.auth!;
    const calls = { jwks: 0, verify: 0 };
    const { getJwks, verifyToken } = facade;
    facade.getJwks = () => (calls.jwks++, getJwks());
    facade.verifyToken = (token) => (calls.verify++, verifyToken(token));
    try {
      const { access } = await registerAndLogin(paths[path].url);
      for (let i = 0; i < 20; i++) t.is((await api(paths[path].url, 'GET', '/api/v1/auth/me', { token: access })).status, 200);
      if (path === 'local') {
        t.is(calls.verify, 0);
        t.true(calls.jwks <= 1, `JWKS fetched ${calls.jwks} times`);
      } else {
        t.is(calls.verify, 20);
      }
    } finally {
      facade.getJwks = getJwks;
      facade.verifyToken = verifyToken;
    }
  }
});
