import { randomUUID } from 'node:crypto';
import test from 'ava';
import { InvalidTokenError, TokenVerifier, type JsonWebKeySet } from '../../src/platform/auth/jwt-verifier.ts';
import { ServiceUnavailableError } from '../../src/platform/errors.ts';
import { freshRsaKey, goodClaims, signRs256 } from '../helpers/tokens.ts';

// The key cache of a process without auth, on a clock of its own: what each state costs in fetches.
const key = freshRsaKey();
const jwks: JsonWebKeySet = { keys: [{ ...key.jwk, kid: 'k1', alg: 'RS256', use: 'sig' }] };
const token = (kid = 'k1') => signRs256({ kid }, goodClaims(randomUUID(), 'u@example.com', { iat: undefined, nbf: undefined, exp: 4_000_000_000 }), key.privateKey);

function rig() {
  let clock = 1_000_000;
  const source = { up: true, calls: 0 };
  const verifier = new TokenVerifier({
    jwks: async () => {
      source.calls++;
      if (!source.up) throw new Error('ECONNREFUSED');
      return jwks;
    },
    issuer: 'boxoffice-auth',
    audience: 'boxoffice-api',
    cacheTtlMs: 60_000,
    unknownKidRefetchMs: 10_000,
    now: () => clock,
  });
  return { verifier, source, tick: (ms: number) => void (clock += ms) };
}

test('cold start with auth down: a 503, not a 401 or a 500, whatever the source threw', async (t) => {
  const { verifier, source } = rig();
  source.up = false;
  const err = await t.throwsAsync(verifier.verify(token()), { instanceOf: ServiceUnavailableError });
  t.is(err!.status, 503);
  t.regex(err!.message, /JWKS/);
  source.up = true;
  t.truthy(await verifier.verify(token()), 'the next request after auth is back fetches');
});

test('a stale set whose refresh fails is kept, and the refresh is not tried again before the cooldown', async (t) => {
  const { verifier, source, tick } = rig();
  await verifier.verify(token());
  t.is(source.calls, 1);
  await verifier.verify(token());
  t.is(source.calls, 1, 'cached');
  source.up = false;
  tick(61_000);
  await verifier.verify(token());
  t.is(source.calls, 2, 'stale: refresh tried, failed, old keys used');
  for (let i = 0; i < 5; i++) await verifier.verify(token());
  t.is(source.calls, 2, 'no refresh per request while auth is down');
  tick(10_000);
  await verifier.verify(token());
  t.is(source.calls, 3, 'tried again after the cooldown');
});

test('an unknown kid refetches at most once per cooldown', async (t) => {
  const { verifier, source, tick } = rig();
  await verifier.verify(token());
  tick(10_000);
  for (let i = 0; i < 5; i++) await t.throwsAsync(verifier.verify(token(`other-${i}`)), { instanceOf: InvalidTokenError, message: /does not know/ });
  t.is(source.calls, 2);
});
