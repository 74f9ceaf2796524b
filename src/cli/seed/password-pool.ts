import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';

/**
 * Every seeded user's password. Documented in `boxoffice seed legacy --help`: a seeded account can sign in
 * with it, and the auth module verifies the legacy bcrypt hash and rehashes it to argon2 on that login.
 */
export const SEED_PASSWORD = 'Legacy-Passw0rd';

/** bcrypt cost of the old system's hashes */
const ROUNDS = 10;

/**
 * A small pool of bcrypt hashes (`$2b$`, the old system's format) of one password, with different salts,
 * shared out over the users: hashing 100k users one by one would take hours. The salts come from the seed,
 * so the pool — like every other seeded value — is the same on every run with the same seed.
 */
export function bcryptPool(password: string, seed: number, size = 8): string[] {
  const pool: string[] = [];
  for (let k = 0; k < size; k++) {
    const bytes = createHash('sha256').update(`boxoffice-seed:${seed}:bcrypt-salt:${k}`).digest().subarray(0, 16);
    const salt = `$2b$${ROUNDS}$${bcrypt.encodeBase64(bytes, 16)}`;
    pool.push(bcrypt.hashSync(password, salt));
  }
  return pool;
}
