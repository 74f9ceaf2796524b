import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../../../platform/db.ts';

export interface RefreshTokenRow {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: Buffer;
  issued_at: Date;
  expires_at: Date;
  rotated_at: Date | null;
  replaced_by: string | null;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export const hashRefreshToken = (token: string): Buffer => createHash('sha256').update(token).digest();

/** Opaque refresh tokens; only their SHA-256 is stored. A family is one login's chain of rotations. */
export function createRefreshTokenStore(schema = 'auth') {
  const table = (db: Db) => db.withSchema(schema).table<RefreshTokenRow>('refresh_tokens');
  return {
    async issue(db: Db, userId: string, ttlSeconds: number, familyId: string = randomUUID()) {
      const token = randomBytes(32).toString('base64url');
      const id = randomUUID();
      await table(db).insert({
        id,
        user_id: userId,
        family_id: familyId,
        token_hash: hashRefreshToken(token),
        expires_at: new Date(Date.now() + ttlSeconds * 1000),
      });
      return { token, id, familyId };
    },

    /** Lock the row of a presented token (callers rotate inside one transaction). */
    async lockByToken(db: Db, token: string): Promise<RefreshTokenRow | undefined> {
      return (await table(db).where({ token_hash: hashRefreshToken(token) }).forUpdate().first()) as
        | RefreshTokenRow
        | undefined;
    },

    async markRotated(db: Db, id: string, replacedBy: string): Promise<void> {
      await table(db).where({ id }).update({ rotated_at: new Date(), replaced_by: replacedBy });
    },

    /** Revoke every live token of a family (logout, or reuse of a rotated token). */
    async revokeFamily(db: Db, familyId: string, reason: string): Promise<number> {
      return table(db).where({ family_id: familyId }).whereNull('revoked_at').update({
        revoked_at: new Date(),
        revoked_reason: reason,
      });
    },
  };
}

export type RefreshTokenStore = ReturnType<typeof createRefreshTokenStore>;
