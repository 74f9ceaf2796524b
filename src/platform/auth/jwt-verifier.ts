import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import jose from 'node-jose';
import { z } from 'zod';
import { DomainError, ServiceUnavailableError, UnauthorizedError } from '../errors.ts';
import { isStorableText } from '../input.ts';
import type { Principal } from './principal.ts';

/** A JSON Web Key Set as served at /.well-known/jwks.json (public keys only). */
export interface JsonWebKeySet {
  keys: Record<string, unknown>[];
}

export type JwksSource = () => Promise<JsonWebKeySet>;

export interface TokenVerifierOptions {
  /** where public keys come from: the auth facade in-process, or the auth service's JWKS URL */
  jwks: JwksSource;
  issuer: string;
  audience: string;
  /** the shared HS256 secret of the old system, when legacy tokens may still be accepted */
  legacySecret?: () => string | undefined;
  /** whether HS256 tokens are accepted right now (a flag) */
  acceptHs256?: () => boolean;
  /** how long a fetched key set is trusted before it is fetched again */
  cacheTtlMs: number;
  /** an unknown kid triggers one refetch, at most this often (a rotation seen early) */
  unknownKidRefetchMs?: number;
  clockToleranceSeconds?: number;
  /** how many verified tokens are remembered (0: verify every time) */
  verifiedCacheSize?: number;
  now?: () => number;
}

export type InvalidTokenReason =
  | 'malformed'
  | 'alg_not_allowed'
  | 'embedded_key'
  | 'unsupported_header'
  | 'unknown_kid'
  | 'bad_signature'
  | 'missing_claim'
  | 'invalid_claim'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_issuer'
  | 'wrong_audience';

export class InvalidTokenError extends UnauthorizedError {
  readonly reason: InvalidTokenReason;

  constructor(reason: InvalidTokenReason, detail: string) {
    super(detail, 'invalid-token', { reason });
    this.reason = reason;
  }
}

const headerSchema = z.looseObject({
  alg: z.string(),
  kid: z.string().optional(),
  typ: z.string().optional(),
});

/**
 * The claims' shapes, not only their presence: a validly signed token is still input, and its subject
 * becomes a user id in queries (a `sub` that is not a UUID was a 500 in Postgres). Every account id,
 * old or new, is a UUID.
 */
const claimsSchema = z.object({
  sub: z.uuid(),
  exp: z.number().finite(),
  iat: z.number().finite().optional(),
  nbf: z.number().finite().optional(),
  iss: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  roles: z.array(z.enum(['user', 'admin'])),
  email: z.string().max(254).refine(isStorableText),
});

const FORBIDDEN_HEADERS = ['jwk', 'jku', 'x5c', 'x5u'] as const;

function decodeSegment(segment: string): unknown {
  if (!/^[A-Za-z0-9_-]+$/.test(segment)) throw new InvalidTokenError('malformed', 'token is not base64url JWS');
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidTokenError('malformed', 'token segment is not JSON');
  }
}

interface CachedKeys {
  keys: Map<string, jose.JWK.Key>;
  fetchedAt: number;
}

/** a token that verified, and what it verified against: the key set it was checked with, or the HS256 secret */
interface Verified {
  principal: Principal;
  keys?: CachedKeys;
  secret?: string;
  nbf?: number;
}

/**
 * Verifies access tokens locally. RS256 keys come from a cached JWKS (no call per request); HS256 is
 * accepted only with the legacy secret and only while allowed. The algorithm chooses the key type
 * here, never the token: an HS256 token is checked against the shared secret alone, so a token
 * "signed" with the RSA public key as an HMAC secret cannot pass.
 */
export class TokenVerifier {
  private cache: CachedKeys | undefined;
  private inflight: Promise<CachedKeys> | undefined;
  private lastFetchAt = 0;
  private hmacKey: { secret: string; key: jose.JWK.Key } | undefined;
  /** how many times the key set was fetched (observability; tests prove the cache works) */
  fetches = 0;
  /** how many signatures were checked (observability; tests prove the verified-token cache works) */
  signatureChecks = 0;
  /**
   * Tokens that verified, by the SHA-256 of the token, until their exp: a client sends the same token
   * with every request, and checking its RSA signature each time was most of a request's CPU. An entry
   * counts only while what it was checked with still holds — the same key set object, still fresh (a
   * rotation, a refetch or invalidate() retires it), or the same HS256 secret while HS256 is accepted.
   */
  private readonly verified: LRUCache<string, Verified> | undefined;

  private readonly options: TokenVerifierOptions;

  constructor(options: TokenVerifierOptions) {
    this.options = options;
    const max = options.verifiedCacheSize ?? 10_000;
    this.verified = max > 0 ? new LRUCache({ max }) : undefined;
  }

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  /** Forget cached keys (after a local rotation), and with them every token verified with them. */
  invalidate(): void {
    this.cache = undefined;
    this.verified?.clear();
  }

  /** the principal of a token verified before, if what it was verified with still holds and it is still in time */
  private remembered(digest: string): Principal | undefined {
    const hit = this.verified?.get(digest);
    if (!hit) return undefined;
    if (hit.keys) {
      if (hit.keys !== this.cache || this.now() - hit.keys.fetchedAt > this.options.cacheTtlMs) return undefined;
    } else if (hit.secret === undefined || hit.secret !== this.options.legacySecret?.() || !(this.options.acceptHs256?.() ?? false)) {
      return undefined;
    }
    const nowSec = this.now() / 1000;
    const tolerance = this.options.clockToleranceSeconds ?? 5;
    if (hit.principal.expiresAt <= nowSec - tolerance) return undefined;
    if (hit.nbf !== undefined && hit.nbf > nowSec + tolerance) return undefined;
    return { ...hit.principal, roles: [...hit.principal.roles] };
  }

  private async fetchKeys(): Promise<CachedKeys> {
    if (this.inflight) return this.inflight;
    this.inflight = (async () => {
      this.fetches++;
      this.lastFetchAt = this.now();
      const set = await this.options.jwks();
      const keys = new Map<string, jose.JWK.Key>();
      for (const raw of set.keys) {
        if (raw['kty'] !== 'RSA' || typeof raw['kid'] !== 'string') continue;
        if (raw['d'] !== undefined) continue; // never accept a private key as a verification key
        keys.set(raw['kid'], await jose.JWK.asKey(raw as unknown as jose.JWK.RawKey));
      }
      const cached = { keys, fetchedAt: this.now() };
      this.cache = cached;
      return cached;
    })();
    try {
      return await this.inflight;
    } finally {
      this.inflight = undefined;
    }
  }

  /**
   * The key for a kid. Keys come from the cache while it is fresh; a stale cache is refreshed, but a
   * failed refresh keeps the old set (auth down does not log everyone out) and is not tried again until
   * the cooldown has passed (a request per attempt would each wait for the dead auth service). An unknown
   * kid refetches at most once per cooldown (a rotation seen early; a flood of made-up kids is one fetch).
   * No keys at all (a cold start with auth down) is a 503, not a 401: the token may well be good.
   */
  private async keyFor(kid: string): Promise<jose.JWK.Key> {
    const cooldown = this.options.unknownKidRefetchMs ?? 10_000;
    let cache = this.cache;
    if (!cache) {
      cache = await this.fetchOrUnavailable();
    } else if (this.now() - cache.fetchedAt > this.options.cacheTtlMs && this.now() - this.lastFetchAt >= cooldown) {
      cache = await this.fetchKeys().catch(() => cache!);
    }
    let key = cache.keys.get(kid);
    if (!key && this.now() - this.lastFetchAt >= cooldown) {
      cache = await this.fetchOrUnavailable();
      key = cache.keys.get(kid);
    }
    if (!key) throw new InvalidTokenError('unknown_kid', 'token was signed with a key this service does not know');
    return key;
  }

  private async fetchOrUnavailable(): Promise<CachedKeys> {
    try {
      return await this.fetchKeys();
    } catch (err) {
      if (err instanceof DomainError && err.status === 503) throw err;
      throw new ServiceUnavailableError('the signing keys (JWKS) of the auth service could not be fetched', { service: 'auth', cause: err instanceof Error ? err.message : String(err) });
    }
  }

  private async legacyKey(): Promise<jose.JWK.Key> {
    const secret = this.options.legacySecret?.();
    if (!secret || !(this.options.acceptHs256?.() ?? false)) {
      throw new InvalidTokenError('alg_not_allowed', 'HS256 tokens are no longer accepted');
    }
    if (this.hmacKey?.secret !== secret) {
      const key = await jose.JWK.asKey({ kty: 'oct', k: Buffer.from(secret).toString('base64url') });
      this.hmacKey = { secret, key };
    }
    return this.hmacKey.key;
  }

  async verify(token: string): Promise<Principal> {
    // one-shot hash: no Hash object per request (the cache is looked up on every authenticated request)
    const digest = this.verified ? hash('sha256', token, 'base64url') : '';
    const known = this.verified && this.remembered(digest);
    if (known) return known;
    const parts = token.split('.');
    if (parts.length !== 3 || parts.some((p) => p.length === 0)) {
      throw new InvalidTokenError('malformed', 'token must be a compact JWS with three parts');
    }
    const headerRaw = decodeSegment(parts[0]!);
    const parsedHeader = headerSchema.safeParse(headerRaw);
    if (!parsedHeader.success) throw new InvalidTokenError('malformed', 'token header has no alg');
    const header = parsedHeader.data;
    for (const name of FORBIDDEN_HEADERS) {
      if (name in header) {
        throw new InvalidTokenError('embedded_key', `tokens carrying their own key (${name}) are refused`);
      }
    }
    if ('crit' in header) throw new InvalidTokenError('unsupported_header', 'critical header extensions are not supported');
    if (header.typ !== undefined && !/^(JWT|at\+jwt)$/i.test(header.typ)) {
      throw new InvalidTokenError('unsupported_header', `typ ${header.typ} is not an access token`);
    }

    let key: jose.JWK.Key;
    let checkedWith: Pick<Verified, 'keys' | 'secret'>;
    if (header.alg === 'RS256') {
      if (!header.kid) throw new InvalidTokenError('unknown_kid', 'RS256 token has no kid');
      key = await this.keyFor(header.kid);
      checkedWith = { keys: this.cache! };
    } else if (header.alg === 'HS256') {
      key = await this.legacyKey();
      checkedWith = { secret: this.hmacKey!.secret };
    } else {
      throw new InvalidTokenError('alg_not_allowed', `alg ${header.alg} is not accepted`);
    }

    let payloadBytes: Buffer;
    this.signatureChecks++;
    try {
      const result = await jose.JWS.createVerify(key, {
        algorithms: [header.alg],
        allowEmbeddedKey: false,
      }).verify(token);
      payloadBytes = result.payload;
    } catch {
      throw new InvalidTokenError('bad_signature', 'token signature does not verify');
    }

    let payloadRaw: unknown;
    try {
      payloadRaw = JSON.parse(payloadBytes.toString('utf8'));
    } catch {
      throw new InvalidTokenError('malformed', 'token payload is not JSON');
    }
    const parsed = claimsSchema.safeParse(payloadRaw);
    if (!parsed.success) {
      const claims = (payloadRaw ?? {}) as Record<string, unknown>;
      const names = [...new Set(parsed.error.issues.map((i) => String(i.path[0] ?? '(payload)')))];
      const missing = names.filter((n) => typeof payloadRaw !== 'object' || claims[n] === undefined);
      if (missing.length > 0) throw new InvalidTokenError('missing_claim', `token claims missing: ${missing.join(', ')}`);
      throw new InvalidTokenError('invalid_claim', `token claims of the wrong shape: ${names.join(', ')}`);
    }
    const claims = parsed.data;
    const nowSec = this.now() / 1000;
    const tolerance = this.options.clockToleranceSeconds ?? 5;
    if (claims.exp <= nowSec - tolerance) throw new InvalidTokenError('expired', 'token has expired');
    if (claims.nbf !== undefined && claims.nbf > nowSec + tolerance) {
      throw new InvalidTokenError('not_yet_valid', 'token is not valid yet (nbf)');
    }
    if (claims.iat !== undefined && claims.iat > nowSec + tolerance) {
      throw new InvalidTokenError('not_yet_valid', 'token was issued in the future (iat)');
    }
    if (claims.iss !== this.options.issuer) throw new InvalidTokenError('wrong_issuer', 'token issuer is not trusted');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(this.options.audience)) {
      throw new InvalidTokenError('wrong_audience', 'token is not meant for this API');
    }
    const principal: Principal = {
      userId: claims.sub,
      email: claims.email,
      roles: claims.roles,
      alg: header.alg,
      ...(header.kid ? { kid: header.kid } : {}),
      expiresAt: claims.exp,
    };
    // kept until exp (plus the tolerance a verification allows), at most an hour
    const ttl = Math.min(3_600_000, (claims.exp + tolerance) * 1000 - this.now());
    if (this.verified && ttl > 0) {
      this.verified.set(digest, { principal: { ...principal, roles: [...principal.roles] }, ...checkedWith, ...(claims.nbf !== undefined ? { nbf: claims.nbf } : {}) }, { ttl });
    }
    return principal;
  }
}
