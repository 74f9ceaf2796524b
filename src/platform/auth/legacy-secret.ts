import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LEGACY_SECRET_FILE = 'legacy-hs256.secret';

/**
 * A shared secret: the configured value, or — outside production — a file in the key directory,
 * generated at first start (so processes sharing the directory share it). Production without one: none.
 */
export function loadSharedSecret(options: {
  secret?: string | undefined;
  keysDir: string;
  file: string;
  production: boolean;
}): string | undefined {
  if (options.secret) return options.secret;
  const path = join(options.keysDir, options.file);
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (options.production) return undefined;
  mkdirSync(options.keysDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, randomBytes(48).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readFileSync(path, 'utf8').trim();
}

/** The old system's shared HS256 secret (LEGACY_JWT_SECRET). Production without one has no HS256 path at all. */
export function loadLegacySecret(options: { secret?: string | undefined; keysDir: string; production: boolean }): string | undefined {
  return loadSharedSecret({ ...options, file: LEGACY_SECRET_FILE });
}
