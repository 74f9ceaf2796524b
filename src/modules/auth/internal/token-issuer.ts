import { randomUUID } from 'node:crypto';
import jose from 'node-jose';
import type { Role } from '../../../platform/auth/principal.ts';
import type { KeyRing } from './key-ring.ts';

export interface TokenSubject {
  id: string;
  email: string;
  role: Role;
}

export interface IssuedToken {
  token: string;
  alg: 'RS256' | 'HS256';
  expiresIn: number;
}

export interface TokenIssuerOptions {
  keyRing: KeyRing;
  issuer: string;
  audience: string;
  ttlSeconds: number;
  legacySecret: string | undefined;
  now?: () => number;
}

/** Signs access tokens: RS256 with the key ring's active key (kid in the header), or HS256 (legacy). */
export class TokenIssuer {
  private readonly options: TokenIssuerOptions;
  private hmac: Promise<jose.JWK.Key> | undefined;

  constructor(options: TokenIssuerOptions) {
    this.options = options;
  }

  get canIssueHs256(): boolean {
    return this.options.legacySecret !== undefined;
  }

  async issue(subject: TokenSubject, alg: 'RS256' | 'HS256'): Promise<IssuedToken> {
    const nowSec = Math.floor((this.options.now ? this.options.now() : Date.now()) / 1000);
    const claims = {
      sub: subject.id,
      email: subject.email,
      roles: [subject.role],
      iss: this.options.issuer,
      aud: this.options.audience,
      iat: nowSec,
      nbf: nowSec,
      exp: nowSec + this.options.ttlSeconds,
      jti: randomUUID(),
    };
    const useHs256 = alg === 'HS256' && this.options.legacySecret !== undefined;
    const signingKey = useHs256 ? await this.hmacKey() : this.options.keyRing.active.key;
    const fields = useHs256
      ? { alg: 'HS256', typ: 'JWT' }
      : { alg: 'RS256', typ: 'JWT', kid: this.options.keyRing.active.kid };
    // HS256 tokens look like the old system's: no kid (reference: false stops node-jose adding one)
    const signer = useHs256 ? { key: signingKey, reference: false } : signingKey;
    const token = (await jose.JWS.createSign({ format: 'compact', fields }, signer as jose.JWK.Key)
      .update(JSON.stringify(claims))
      .final()) as unknown as string;
    return { token, alg: useHs256 ? 'HS256' : 'RS256', expiresIn: this.options.ttlSeconds };
  }

  private hmacKey(): Promise<jose.JWK.Key> {
    this.hmac ??= jose.JWK.asKey({
      kty: 'oct',
      k: Buffer.from(this.options.legacySecret ?? '').toString('base64url'),
    });
    return this.hmac;
  }
}
