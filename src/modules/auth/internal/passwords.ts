import argon2 from 'argon2';
import bcrypt from 'bcryptjs';

/** OWASP's argon2id baseline (19 MiB, t=2, p=1). */
const ARGON2_OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

const BCRYPT = /^\$2[aby]\$\d{2}\$/;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

export interface PasswordCheck {
  ok: boolean;
  /** the stored hash is legacy bcrypt or weaker argon2 parameters: replace it now that we know the password */
  needsRehash: boolean;
  scheme: 'argon2' | 'bcrypt' | 'unknown';
}

export async function verifyPassword(hash: string, password: string): Promise<PasswordCheck> {
  if (hash.startsWith('$argon2')) {
    const ok = await argon2.verify(hash, password).catch(() => false);
    return { ok, needsRehash: ok && argon2.needsRehash(hash, ARGON2_OPTIONS), scheme: 'argon2' };
  }
  if (BCRYPT.test(hash)) {
    const ok = await bcrypt.compare(password, hash).catch(() => false);
    return { ok, needsRehash: ok, scheme: 'bcrypt' };
  }
  return { ok: false, needsRehash: false, scheme: 'unknown' };
}

let dummy: Promise<string> | undefined;

/** Spend the same time as a real check when the account does not exist, so timing does not reveal it. */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hashPassword('boxoffice-timing-equaliser');
  await argon2.verify(await dummy, password).catch(() => false);
}

/** bcrypt hash in the old system's format (`$2b$`), for seeding legacy users. */
export function legacyBcryptHash(password: string, rounds = 10): Promise<string> {
  return bcrypt.hash(password, rounds);
}
