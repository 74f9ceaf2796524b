import { sqlState, type Db } from '../../../platform/db.ts';
import { preparedStatement, queryPrepared } from '../../../platform/prepared-query.ts';
import type { Role } from '../../../platform/auth/principal.ts';
import { EmailTakenError } from './errors.ts';
import { normalizeEmail, type NewUser, type UserRecord, type UserStore } from './user-store.ts';

/** The old shared table's columns (hashed_password, nullable role/is_active, timestamps without zone). */
interface LegacyRow {
  id: string;
  email: string;
  full_name: string | null;
  hashed_password: string;
  role: string | null;
  is_active: boolean | null;
  created_at: Date | null;
  updated_at: Date | null;
}

const toRecord = (r: LegacyRow): UserRecord => ({
  id: r.id,
  email: r.email,
  fullName: r.full_name,
  passwordHash: r.hashed_password,
  role: r.role === 'admin' ? 'admin' : 'user',
  isActive: r.is_active ?? true,
  createdAt: r.created_at ?? new Date(0),
  updatedAt: r.updated_at ?? r.created_at ?? new Date(0),
});

/** The legacy shared `users` table, as the old auth service used it. */
export function createLegacyUserStore(legacySchema: string): UserStore {
  const users = (db: Db) => db.withSchema(legacySchema).table<LegacyRow>('users');
  // every request with a token reads its user by id (GET /auth/me): a prepared statement, not a built query
  const byId = preparedStatement(`select id, email, full_name, hashed_password, role, is_active, created_at, updated_at from "${legacySchema}".users where id = $1`);
  return {
    async insert(db, user: NewUser) {
      const email = normalizeEmail(user.email);
      // the old table's unique index is case-sensitive; keep the new rule (one account per address)
      if (await users(db).whereRaw('lower(email) = ?', [email]).first('id')) throw new EmailTakenError();
      try {
        const [row] = await users(db)
          .insert({
            id: user.id,
            email,
            full_name: user.fullName,
            hashed_password: user.passwordHash,
            role: user.role,
            is_active: true,
          })
          .returning('*');
        return toRecord(row as LegacyRow);
      } catch (err) {
        if (sqlState(err) === '23505') throw new EmailTakenError();
        throw err;
      }
    },
    async findByEmail(db, email) {
      const row = await users(db).whereRaw('lower(email) = ?', [normalizeEmail(email)]).first();
      return row ? toRecord(row as LegacyRow) : undefined;
    },
    async findById(db, id) {
      const [row] = await queryPrepared<LegacyRow>(db, byId, [id]);
      return row ? toRecord(row) : undefined;
    },
    async updatePasswordHash(db, id, passwordHash) {
      await users(db).where({ id }).update({ hashed_password: passwordHash, updated_at: new Date() });
    },
    async updateRole(db, id, role: Role) {
      const [row] = await users(db).where({ id }).update({ role, updated_at: new Date() }).returning('*');
      return row ? toRecord(row as LegacyRow) : undefined;
    },
  };
}
