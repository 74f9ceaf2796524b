import type { Middleware } from 'koa';
import jose from 'node-jose';
import { z } from 'zod';
import { UnauthorizedError } from '../errors.ts';
import { loadSharedSecret } from './legacy-secret.ts';

/** Audience of service tokens: never the user API's, so neither kind of token passes for the other. */
export const SERVICE_AUDIENCE = 'boxoffice-internal';
export const INTERNAL_SECRET_FILE = 'internal-api.secret';

export interface ServiceCredentialOptions {
  /** INTERNAL_API_SECRET (≥ 32 characters), shared by every process of one deployment; none → no internal API */
  secret: string | undefined;
  /** who this process is, as it signs its calls (e.g. `booking`), for the callee's logs */
  caller: string;
  /** lifetime of a minted token; a leaked one (in a log, say) is useless after it */
  ttlSeconds?: number;
  now?: () => number;
}

const claimsSchema = z.object({
  iss: z.literal(SERVICE_AUDIENCE),
  aud: z.literal(SERVICE_AUDIENCE),
  sub: z.string().regex(/^service:[a-z,]{1,100}$/),
  exp: z.number().finite(),
  iat: z.number().finite(),
});

/** 401 from the internal API; the body says why, never what the secret is. */
export class ServiceCredentialError extends UnauthorizedError {
  constructor(detail: string) {
    super(detail, 'invalid-service-credential');
  }
}

/**
 * How one module's process proves to another's internal API (`/internal/…`) that it is part of this
 * deployment: a short-lived HS256 token (node-jose) signed with the shared INTERNAL_API_SECRET, audience
 * `boxoffice-internal`. A user's access token (RS256, audience boxoffice-api) never passes, nor does a
 * forged, expired or differently keyed one.
 */
export class ServiceCredential {
  private key: Promise<jose.JWK.Key> | undefined;
  private cached: { token: string; renewAt: number } | undefined;
  private readonly options: ServiceCredentialOptions;

  constructor(options: ServiceCredentialOptions) {
    this.options = options;
  }

  get enabled(): boolean {
    return this.options.secret !== undefined;
  }

  private now(): number {
    return this.options.now ? this.options.now() : Date.now();
  }

  private signingKey(): Promise<jose.JWK.Key> {
    const secret = this.options.secret;
    if (!secret) throw new Error('INTERNAL_API_SECRET is not set: this process cannot call another module\'s internal API');
    this.key ??= jose.JWK.asKey({ kty: 'oct', k: Buffer.from(secret).toString('base64url') });
    return this.key;
  }

  /** A token for the next call: minted once and reused until a third of its life is left. */
  async token(): Promise<string> {
    const now = this.now();
    if (this.cached && now < this.cached.renewAt) return this.cached.token;
    const ttl = this.options.ttlSeconds ?? 60;
    const iat = Math.floor(now / 1000);
    const claims = { iss: SERVICE_AUDIENCE, aud: SERVICE_AUDIENCE, sub: `service:${this.options.caller}`, iat, exp: iat + ttl };
    const token = (await jose.JWS.createSign({ format: 'compact', fields: { alg: 'HS256', typ: 'JWT' } }, await this.signingKey())
      .update(JSON.stringify(claims))
      .final()) as unknown as string;
    this.cached = { token, renewAt: now + (ttl * 1000 * 2) / 3 };
    return token;
  }

  /** The caller's name, or a ServiceCredentialError. */
  async verify(authorization: string | undefined): Promise<string> {
    if (!this.enabled) throw new ServiceCredentialError('the internal API is disabled here (no INTERNAL_API_SECRET)');
    const m = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/.exec(authorization ?? '');
    if (!m) throw new ServiceCredentialError('the internal API needs a service credential (Authorization: Bearer <service token>)');
    let claims: unknown;
    try {
      const header = JSON.parse(Buffer.from(m[1]!.split('.')[0]!, 'base64url').toString('utf8')) as { alg?: unknown };
      // the algorithm is ours to choose, never the token's: only HS256 with the shared secret
      if (header.alg !== 'HS256') throw new Error('alg');
      const verified = await jose.JWS.createVerify(await this.signingKey(), { algorithms: ['HS256'], allowEmbeddedKey: false }).verify(m[1]!);
      claims = JSON.parse(verified.payload.toString('utf8'));
    } catch {
      throw new ServiceCredentialError('the service credential does not verify');
    }
    const parsed = claimsSchema.safeParse(claims);
    if (!parsed.success) throw new ServiceCredentialError('the service credential is not a service token');
    const nowSec = this.now() / 1000;
    if (parsed.data.exp <= nowSec - 5) throw new ServiceCredentialError('the service credential has expired');
    if (parsed.data.iat > nowSec + 5) throw new ServiceCredentialError('the service credential was issued in the future');
    return parsed.data.sub.slice('service:'.length);
  }

  /** Koa middleware: 401 problem unless the request carries a valid service credential. */
  guard(): Middleware {
    return async (ctx, next) => {
      ctx.state.serviceCaller = await this.verify(ctx.get('authorization') || undefined);
      await next();
    };
  }
}

/** INTERNAL_API_SECRET, or outside production one generated in the key directory (shared by local processes). */
export function loadInternalApiSecret(options: { secret?: string | undefined; keysDir: string; production: boolean }): string | undefined {
  return loadSharedSecret({ ...options, file: INTERNAL_SECRET_FILE });
}
