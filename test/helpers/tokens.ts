import { createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** The active signing key of an app's key directory (tests forge tokens with the real key). */
export function activeKey(keysDir: string): { kid: string; privateKey: KeyObject; publicPem: string } {
  const file = JSON.parse(readFileSync(join(keysDir, 'signing-keys.json'), 'utf8')) as {
    keys: { kid: string; status: string; jwk: Record<string, unknown> }[];
  };
  const active = file.keys.find((k) => k.status === 'active')!;
  const privateKey = createPrivateKey({ key: active.jwk as never, format: 'jwk' });
  const publicPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return { kid: active.kid, privateKey, publicPem };
}

export function legacySecret(keysDir: string): string {
  return readFileSync(join(keysDir, 'legacy-hs256.secret'), 'utf8').trim();
}

export function signRs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${b64({ typ: 'JWT', ...header, alg: header['alg'] ?? 'RS256' })}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

export function signHs256(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${b64({ typ: 'JWT', ...header, alg: 'HS256' })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

export function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>, signature = ''): string {
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

export function freshRsaKey(): { privateKey: KeyObject; jwk: Record<string, unknown> } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, jwk: publicKey.export({ format: 'jwk' }) as Record<string, unknown> };
}

/** Claims the app accepts, for a user id and email, valid for 15 minutes from now. */
export function goodClaims(sub: string, email: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub, email, roles: ['user'], iss: 'boxoffice-auth', aud: 'boxoffice-api', iat: now, nbf: now, exp: now + 900, ...extra };
}
