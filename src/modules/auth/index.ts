import { TokenVerifier, type JsonWebKeySet } from '../../platform/auth/jwt-verifier.ts';
import { loadLegacySecret } from '../../platform/auth/legacy-secret.ts';
import type { Principal } from '../../platform/auth/principal.ts';
import { z } from 'zod';
import { DomainError, UnauthorizedError } from '../../platform/errors.ts';
import type { InternalClient } from '../../platform/http/internal-client.ts';
import type { Knex } from '../../platform/db.ts';
import type { BoxofficeModule, PlatformDeps } from '../../platform/module.ts';
import { recordAudit } from './internal/audit-log.ts';
import { AuthService, type UserView } from './internal/auth-service.ts';
import { KeyRing, rotateKeyFile, type RotationResult } from './internal/key-ring.ts';
import { createLegacyUserStore } from './internal/legacy-user-store.ts';
import { LoginThrottle } from './internal/login-throttle.ts';
import { createOwnUserStore } from './internal/own-user-store.ts';
import { createRefreshTokenStore } from './internal/refresh-token-store.ts';
import { RegistrationThrottle } from './internal/registration-throttle.ts';
import { throttleStoreOf } from './internal/throttle-store.ts';
import { createAuthRoutes } from './internal/routes.ts';
import { TokenIssuer } from './internal/token-issuer.ts';
import { USER_STORE_METHODS } from './internal/user-store.ts';

export { createAuthMapping } from './internal/auth-mapping.ts';
export { userCreatedV1, userUpdatedV1 } from './internal/events.ts';
export type { UserView };

/** What other modules (and the platform's token check) may use of auth. */
export interface AuthFacade {
  /** the public signing keys (what /.well-known/jwks.json serves) */
  getJwks(): Promise<JsonWebKeySet>;
  /** the old synchronous check, used while use_local_jwt is off */
  verifyToken(token: string): Promise<Principal>;
  /**
   * Exchange credentials for an access token only (admin pages keep it in a session cookie): same
   * throttling and audit as POST /api/v1/auth/login; the refresh token is revoked at once.
   */
  login(credentials: { email: string; password: string }, meta: { ip: string; userAgent?: string | undefined }): Promise<{ accessToken: string; expiresIn: number }>;
}

/** Operator actions (the CLI), not for other modules. */
export interface AuthAdmin {
  createAdmin(input: { email: string; password: string; fullName?: string }): Promise<{ user: UserView; created: boolean }>;
}

export type AuthModule = BoxofficeModule<AuthFacade> & { admin: AuthAdmin };

export async function createAuthModule(deps: PlatformDeps): Promise<AuthModule> {
  const { config, logger, db, flags, metrics, redis } = deps;
  const production = config.NODE_ENV === 'production';
  const legacySecret = loadLegacySecret({ secret: config.LEGACY_JWT_SECRET, keysDir: config.JWT_KEYS_DIR, production });
  if (!legacySecret) logger.warn('no LEGACY_JWT_SECRET: HS256 tokens are neither issued nor accepted');

  let verifier: TokenVerifier | undefined;
  const keyRing = await KeyRing.open({
    dir: config.JWT_KEYS_DIR,
    production,
    logger,
    onChange: () => verifier?.invalidate(),
  });
  verifier = new TokenVerifier({
    jwks: async () => keyRing.jwks(),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    legacySecret: () => legacySecret,
    acceptHs256: () => flags.isEnabled('accept_legacy_hs256_tokens'),
    cacheTtlMs: 60_000,
    unknownKidRefetchMs: 0,
  });
  // Redis, or with BACKEND=postgres the auth schema's tables: either way shared by the replicas (ADR 0078)
  const throttleStore = throttleStoreOf(redis, db);
  const users = deps.stores.route({
    module: 'auth',
    name: 'users',
    legacy: createLegacyUserStore(config.LEGACY_SCHEMA),
    own: createOwnUserStore(),
    methods: USER_STORE_METHODS,
  });
  const service = new AuthService({
    db,
    users,
    refreshTokens: createRefreshTokenStore(),
    issuer: new TokenIssuer({
      keyRing,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      legacySecret,
    }),
    verifier,
    throttle: new LoginThrottle({
      store: throttleStore,
      keyPrefix: config.REDIS_KEY_PREFIX,
      maxFailuresPerAccountAddress: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS,
      maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
      accountDelayAfter: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      accountMaxDelaySeconds: config.LOGIN_ACCOUNT_MAX_DELAY_SECONDS,
      knownAddressDays: config.LOGIN_KNOWN_ADDRESS_DAYS,
      windowSeconds: config.LOGIN_THROTTLE_WINDOW_SECONDS,
    }),
    registrations: new RegistrationThrottle({
      store: throttleStore,
      keyPrefix: config.REDIS_KEY_PREFIX,
      maxPerIp: config.REGISTER_MAX_PER_IP,
      windowSeconds: config.REGISTER_WINDOW_SECONDS,
    }),
    flags,
    logger,
    refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
  });
  const facade: AuthFacade = {
    getJwks: async () => keyRing.jwks(),
    verifyToken: (token) => service.verifyToken(token),
    async login(credentials, meta) {
      const pair = await service.login(credentials, meta);
      await service.logout(pair.refresh_token, meta);
      return { accessToken: pair.access_token, expiresIn: pair.expires_in };
    },
  };
  logger.info({ stores: deps.stores.describe('auth'), kid: keyRing.active.kid }, 'auth module ready');
  return {
    name: 'auth',
    facade,
    admin: { createAdmin: (input) => service.createAdmin(input) },
    routes: createAuthRoutes({
      service,
      authenticator: deps.authenticator,
      flags,
      logger,
      metrics,
      jwks: () => keyRing.jwks(),
      jwksCacheSeconds: config.JWKS_CACHE_SECONDS,
    }),
    workers: [],
    outbox: { schema: 'auth' },
    async start() {
      keyRing.watch(config.JWT_KEYS_RELOAD_MS);
    },
    async stop() {
      keyRing.unwatch();
    },
    async health() {
      await db.raw('select 1');
      return { status: 'ok', details: { stores: deps.stores.describe('auth'), activeKid: keyRing.active.kid } };
    },
  };
}

/**
 * The auth facade of a process that does not host auth: JWKS and the old verify call over HTTP to the
 * auth service (SERVICE_URL_AUTH), through the internal client (deadline, retries of the GETs, circuit).
 * These are auth's public endpoints: the calls carry the user's token or nothing, not the service credential.
 */
export function createRemoteAuthFacade(client: InternalClient): AuthFacade {
  return {
    async getJwks() {
      const jwks = await client.get('/.well-known/jwks.json', jwksSchema);
      if (!jwks) throw client.unavailable('has no JWKS (404)');
      return jwks;
    },
    async verifyToken(token) {
      const res = await client.request('GET', '/api/v1/auth/verify', { headers: { authorization: `Bearer ${token}` } });
      if (res.status === 401) throw new UnauthorizedError('token rejected by the auth service', 'invalid-token');
      const body = res.status === 200 ? verifySchema.safeParse(parseJson(res.text)) : undefined;
      if (!body?.success) throw client.unavailable(`answered the token check with ${res.status}`);
      return { userId: body.data.user_id, email: body.data.email, roles: body.data.roles, alg: 'RS256', expiresAt: body.data.exp };
    },
    async login(credentials, meta) {
      const headers = { 'x-forwarded-for': meta.ip, ...(meta.userAgent ? { 'user-agent': meta.userAgent } : {}) };
      const res = await client.request('POST', '/api/v1/auth/login', { body: credentials, headers });
      if (res.status === 401) throw new UnauthorizedError('email or password is incorrect', 'invalid-credentials');
      if (res.status === 429) throw new DomainError(429, 'too-many-requests', 'Too many requests', { detail: 'too many login attempts', headers: { 'Retry-After': res.headers.get('retry-after') ?? '60' } });
      const pair = res.status === 200 ? pairSchema.safeParse(parseJson(res.text)) : undefined;
      if (!pair?.success) throw client.unavailable(`answered the login with ${res.status}`);
      // the admin session keeps only the access token: its refresh token is revoked at once (best effort)
      await client.request('POST', '/api/v1/auth/logout', { body: { refresh_token: pair.data.refresh_token }, headers }).catch(() => undefined);
      return { accessToken: pair.data.access_token, expiresIn: pair.data.expires_in };
    },
  };
}

const jwksSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) satisfies z.ZodType<JsonWebKeySet>;
const verifySchema = z.object({ user_id: z.uuid(), email: z.string(), roles: z.array(z.enum(['user', 'admin'])), exp: z.number() });
const pairSchema = z.object({ access_token: z.string(), refresh_token: z.string(), expires_in: z.number() });
const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * `boxoffice keys rotate`: a new signing key becomes active; the previous one stays published for the
 * overlap (which must outlast an access token). Running processes pick the change up by themselves.
 */
export async function rotateSigningKeys(options: {
  dir: string;
  overlapSeconds: number;
  accessTokenTtlSeconds: number;
  db?: Knex;
  actor?: string;
}): Promise<RotationResult> {
  if (options.overlapSeconds < options.accessTokenTtlSeconds) {
    throw new RangeError(
      `overlap (${options.overlapSeconds}s) must be at least the access-token TTL (${options.accessTokenTtlSeconds}s), ` +
        'or tokens signed by the previous key would stop verifying before they expire',
    );
  }
  const result = await rotateKeyFile(options.dir, { overlapSeconds: options.overlapSeconds });
  if (options.db) {
    await recordAudit(options.db, {
      action: 'key_rotated',
      outcome: 'success',
      ip: options.actor ?? 'cli',
      detail: { ...result },
    });
  }
  return result;
}
