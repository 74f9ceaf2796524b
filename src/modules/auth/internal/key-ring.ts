import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import jose from 'node-jose';
import { z } from 'zod';
import type { JsonWebKeySet } from '../../../platform/auth/jwt-verifier.ts';
import type { Logger } from '../../../platform/logger.ts';

export const KEY_FILE = 'signing-keys.json';

const storedKeySchema = z.object({
  kid: z.string().min(1),
  created_at: z.iso.datetime(),
  status: z.enum(['active', 'retiring']),
  /** a retiring key stays in the JWKS until then, so tokens it signed still verify */
  retire_at: z.iso.datetime().optional(),
  jwk: z.looseObject({ kty: z.literal('RSA'), d: z.string() }),
});
const keyFileSchema = z.object({ version: z.literal(1), keys: z.array(storedKeySchema).min(1) });

export type StoredKey = z.infer<typeof storedKeySchema>;
export type KeyFile = z.infer<typeof keyFileSchema>;

export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyFileError';
  }
}

/** A new RS256 key whose kid is its RFC 7638 thumbprint. */
export async function generateSigningKey(now = new Date()): Promise<StoredKey> {
  const draft = await jose.JWK.createKey('RSA', 2048, { alg: 'RS256', use: 'sig' });
  // node-jose resolves a Buffer here, whatever its typings say
  const kid = (await draft.thumbprint('SHA-256') as unknown as Buffer).toString('base64url');
  const key = await jose.JWK.asKey({ ...draft.toJSON(true), kid });
  return {
    kid,
    created_at: now.toISOString(),
    status: 'active',
    jwk: key.toJSON(true) as StoredKey['jwk'],
  };
}

export async function readKeyFile(dir: string): Promise<KeyFile | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, KEY_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = keyFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new KeyFileError(`${join(dir, KEY_FILE)} is not a valid key file: ${parsed.error.message}`);
  if (parsed.data.keys.filter((k) => k.status === 'active').length !== 1) {
    throw new KeyFileError(`${join(dir, KEY_FILE)} must hold exactly one active key`);
  }
  return parsed.data;
}

/** Atomic replace (write aside, rename over), owner-only permissions. */
export async function writeKeyFile(dir: string, file: KeyFile): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${KEY_FILE}.${randomUUID()}`);
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, join(dir, KEY_FILE));
}

/** Dev start-up: create the key file once; concurrent starters agree on the first one written. */
export async function ensureKeyFile(dir: string, production: boolean): Promise<KeyFile> {
  const existing = await readKeyFile(dir);
  if (existing) return existing;
  if (production) {
    throw new KeyFileError(
      `no signing keys at ${join(dir, KEY_FILE)}: mount the jwt-signing-keys secret there (see docs/operations/keys.md) ` +
        'or create one with `boxoffice keys rotate --dir <dir>`',
    );
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${KEY_FILE}.${randomUUID()}`);
  await writeFile(tmp, `${JSON.stringify({ version: 1, keys: [await generateSigningKey()] }, null, 2)}\n`, {
    mode: 0o600,
  });
  try {
    await link(tmp, join(dir, KEY_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  const file = await readKeyFile(dir);
  if (!file) throw new KeyFileError(`could not create ${join(dir, KEY_FILE)}`);
  return file;
}

export interface RotationResult {
  activeKid: string;
  retiringKids: string[];
  droppedKids: string[];
  retireAt: string;
}

/**
 * Rotate: a new key signs from now on; the previous active key stays published (verifying the tokens
 * it signed) for the overlap window; keys whose window has passed are dropped.
 */
export async function rotateKeyFile(
  dir: string,
  options: { overlapSeconds: number; now?: Date; production?: boolean },
): Promise<RotationResult> {
  const now = options.now ?? new Date();
  const current = (await readKeyFile(dir)) ?? { version: 1 as const, keys: [] };
  const retireAt = new Date(now.getTime() + options.overlapSeconds * 1000).toISOString();
  const kept: StoredKey[] = [];
  const dropped: string[] = [];
  for (const key of current.keys) {
    if (key.status === 'active') kept.push({ ...key, status: 'retiring', retire_at: retireAt });
    else if (key.retire_at && Date.parse(key.retire_at) > now.getTime()) kept.push(key);
    else dropped.push(key.kid);
  }
  const fresh = await generateSigningKey(now);
  await writeKeyFile(dir, { version: 1, keys: [fresh, ...kept] });
  return { activeKid: fresh.kid, retiringKids: kept.map((k) => k.kid), droppedKids: dropped, retireAt };
}

interface LoadedKeys {
  active: { kid: string; key: jose.JWK.Key };
  published: { key: jose.JWK.Key; retireAt: number | undefined }[];
  signature: string;
}

async function load(file: KeyFile, signature: string): Promise<LoadedKeys> {
  let active: LoadedKeys['active'] | undefined;
  const published: LoadedKeys['published'] = [];
  for (const stored of file.keys) {
    const key = await jose.JWK.asKey({ ...stored.jwk, kid: stored.kid, alg: 'RS256', use: 'sig' });
    if (stored.status === 'active') active = { kid: stored.kid, key };
    published.push({ key, retireAt: stored.retire_at ? Date.parse(stored.retire_at) : undefined });
  }
  if (!active) throw new KeyFileError('key file has no active key');
  return { active, published, signature };
}

/**
 * The signing keys of this process, read from JWT_KEYS_DIR and re-read when the file changes (a
 * rotation by the CLI, or a re-mounted Kubernetes secret) — no restart needed.
 */
export class KeyRing {
  private loaded: LoadedKeys;
  private timer: NodeJS.Timeout | undefined;
  private readonly dir: string;
  private readonly logger: Logger;
  private readonly onChange: (() => void) | undefined;

  private constructor(dir: string, loaded: LoadedKeys, logger: Logger, onChange?: () => void) {
    this.dir = dir;
    this.loaded = loaded;
    this.logger = logger;
    this.onChange = onChange;
  }

  static async open(options: {
    dir: string;
    production: boolean;
    logger: Logger;
    onChange?: () => void;
  }): Promise<KeyRing> {
    const file = await ensureKeyFile(options.dir, options.production);
    const signature = await KeyRing.signatureOf(options.dir);
    return new KeyRing(options.dir, await load(file, signature), options.logger, options.onChange);
  }

  private static async signatureOf(dir: string): Promise<string> {
    const s = await stat(join(dir, KEY_FILE));
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  }

  get active(): { kid: string; key: jose.JWK.Key } {
    return this.loaded.active;
  }

  /** Public keys of the active key and of retiring keys still inside their overlap window. */
  jwks(now = Date.now()): JsonWebKeySet {
    return {
      keys: this.loaded.published
        .filter((p) => p.retireAt === undefined || p.retireAt > now)
        .map((p) => ({ ...(p.key.toJSON() as Record<string, unknown>), alg: 'RS256', use: 'sig' })),
    };
  }

  /** Re-read the key file if it changed; a broken file keeps the keys already loaded. */
  async reload(): Promise<boolean> {
    try {
      const signature = await KeyRing.signatureOf(this.dir);
      if (signature === this.loaded.signature) return false;
      const file = await readKeyFile(this.dir);
      if (!file) return false;
      const previousKid = this.loaded.active.kid;
      this.loaded = await load(file, signature);
      this.logger.info({ previousKid, activeKid: this.loaded.active.kid }, 'signing keys reloaded');
      this.onChange?.();
      return true;
    } catch (err) {
      this.logger.error({ err }, 'could not reload signing keys; keeping the current ones');
      return false;
    }
  }

  watch(intervalMs: number): void {
    this.unwatch();
    this.timer = setInterval(() => void this.reload(), intervalMs);
    this.timer.unref();
  }

  unwatch(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
