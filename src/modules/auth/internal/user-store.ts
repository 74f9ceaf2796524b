import type { Db } from '../../../platform/db.ts';
import type { Role } from '../../../platform/auth/principal.ts';
import type { StoreMethods } from '../../../platform/mapping/store-routing.ts';

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
 * transaction so a service can put a user write and its outbox event in one transaction. Copying users
 * between the two (dual-write, backfill, repair) is the mapping's job (auth-mapping.ts), not the store's.
 */
export interface UserStore {
  /** throws EmailTakenError when the (case-insensitive) email exists */
  insert(db: Db, user: NewUser): Promise<UserRecord>;
  findByEmail(db: Db, email: string): Promise<UserRecord | undefined>;
  findById(db: Db, id: string): Promise<UserRecord | undefined>;
  updatePasswordHash(db: Db, id: string, passwordHash: string): Promise<void>;
  updateRole(db: Db, id: string, role: Role): Promise<UserRecord | undefined>;
}

/** How the routing store may route each method (src/platform/mapping/store-routing.ts). */
export const USER_STORE_METHODS: StoreMethods<UserStore> = {
  insert: 'write',
  findByEmail: { read: 'users' },
  findById: { read: 'users' },
  updatePasswordHash: 'write',
  updateRole: 'write',
};

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();
