import test from 'ava';
import { randomUUID } from 'node:crypto';
import { InvalidTokenError, TokenVerifier, type JsonWebKeySet } from '../../src/platform/auth/jwt-verifier.ts';
import { freshRsaKey, goodClaims, signHs256, signRs256 } from '../helpers/tokens.ts';

const ISSUER = 'boxoffice-auth';
const AUDIENCE = 'boxoffice-api';
const SECRET = 'legacy-shared-secret-for-the-verified-token-cache';

/** a verifier on a key set the test controls, and a clock it moves */
function rig() {
  const key = freshRsaKey();
  const clock = { ms: Date.now() };
  const state = { keys: [{ ...key.jwk, kid: 'k1', use: 'sig', alg: 'RS256' }] as Record<string, unknown>[], hs256: true };
  const verifier = new TokenVerifier({
    jwks: async (): Promise<JsonWebKeySet> => ({ keys: state.keys }),
    issuer: ISSUER, audience: AUDIENCE, cacheTtlMs: 60_000, legacySecret: () => SECRET, acceptHs256: () => state.hs256, now: () => clock.ms,
  });
  const claims = (extra: Record<string, unknown> = {}) =>
    goodClaims(randomUUID(), 'cache@example.com', { iss: ISSUER, aud: AUDIENCE, iat: Math.floor(clock.ms / 1000), exp: Math.floor(clock.ms / 1000) + 600, ...extra });
  const rs256 = (extra?: Record<string, unknown>) => signRs256({ kid: 'k1' }, claims(extra), key.privateKey);
  return { verifier, clock, state, rs256, hs256: () => signHs256({}, claims(), SECRET) };
}

const reason = async (p: Promise<unknown>) => ((await p.then(() => undefined, (err: unknown) => err)) as InvalidTokenError | undefined)?.reason;

test('a token verified once is not checked again; another token is', async (t) => {
  const { verifier, rs256 } = rig();
  const token = rs256();
  const first = await verifier.verify(token);
  t.deepEqual(await verifier.verify(token), first);
  t.is(verifier.signatureChecks, 1);
  // the same claims under a forged signature are a different token: checked, and refused
  await t.throwsAsync(verifier.verify(`${token.slice(0, token.lastIndexOf('.'))}.${'A'.repeat(342)}`), { instanceOf: InvalidTokenError });
  t.is(verifier.signatureChecks, 2);
});

test('a remembered token is refused once it expires', async (t) => {
  const { verifier, clock, rs256 } = rig();
  const token = rs256();
  await verifier.verify(token);
  clock.ms += 700_000;
  t.is(await reason(verifier.verify(token)), 'expired');
});

test('a key-ring change retires remembered tokens: invalidate(), or a refetched key set without their key', async (t) => {
  const { verifier, clock, state, rs256 } = rig();
  const token = rs256();
  await verifier.verify(token);
  verifier.invalidate();
  await verifier.verify(token);
  t.is(verifier.signatureChecks, 2, 'checked again after invalidate()');
  // the key is withdrawn; once the key set is stale it is fetched again, and the token no longer passes
  state.keys = [];
  clock.ms += 61_000;
  t.is(await reason(verifier.verify(token)), 'unknown_kid');
});

test('a remembered HS256 token is refused once HS256 is no longer accepted', async (t) => {
  const { verifier, state, hs256 } = rig();
  const token = hs256();
  await verifier.verify(token);
  state.hs256 = false;
  t.is(await reason(verifier.verify(token)), 'alg_not_allowed');
});
