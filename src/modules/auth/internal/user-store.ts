import type { Db } from '../../../platform/db.ts';
import type { Role } from '../../../platform/auth/principal.ts';

export interface UserRecord {
  id: string;
  email: string;
  fullName: string | null;
  passwordHash: string;
  role: Role;
  isActive: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewUser {
  id: string;
  email: string;
  fullName: string | null;
  passwordHash: string;
  role: Role;
}

/**
 * Where users live. Two implementations: the legacy shared `users` table and the auth schema's own
 * table. Both pass test/modules/auth/user-store.contract.ts. Every method takes the pool or an open
 * transaction so a service can put a user write and its outbox event in one transaction.
 */
export interface UserStore {
  readonly kind: 'legacy' | 'own';
  /** throws EmailTakenError when the (case-insensitive) email exists */
  insert(db: Db, user: NewUser): Promise<UserRecord>;
  findByEmail(db: Db, email: string): Promise<UserRecord | undefined>;
  findById(db: Db, id: string): Promise<UserRecord | undefined>;
  updatePasswordHash(db: Db, id: string, passwordHash: string): Promise<void>;
  updateRole(db: Db, id: string, role: Role): Promise<UserRecord | undefined>;
  /** keyset page by id, for backfill and reconciliation */
  listAfter(db: Db, afterId: string | null, limit: number): Promise<UserRecord[]>;
  /** insert or overwrite a whole row with the same id (dual-write, backfill, repair) */
  upsert(db: Db, user: UserRecord): Promise<void>;
  count(db: Db): Promise<number>;
}

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();
