import { sqlState, type Db } from '../../../platform/db.ts';
import { preparedStatement, queryPrepared } from '../../../platform/prepared-query.ts';
import type { Role } from '../../../platform/auth/principal.ts';
import { EmailTakenError } from './errors.ts';
import { normalizeEmail, type NewUser, type UserRecord, type UserStore } from './user-store.ts';

interface Row {
  id: string;
  email: string;
  full_name: string | null;
  password_hash: string;
  role: Role;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

const toRecord = (r: Row): UserRecord => ({
  id: r.id,
  email: r.email,
  fullName: r.full_name,
  passwordHash: r.password_hash,
  role: r.role,
  isActive: r.is_active,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** auth.users — the module's own table (timestamptz, role checked, email unique case-insensitively). */
export function createOwnUserStore(schema = 'auth'): UserStore {
  const users = (db: Db) => db.withSchema(schema).table<Row>('users');
  // every request with a token reads its user by id (GET /auth/me): a prepared statement, not a built query
  const byId = preparedStatement(`select id, email, full_name, password_hash, role, is_active, created_at, updated_at from "${schema}".users where id = $1`);
  return {
    async insert(db, user: NewUser) {
      try {
        const [row] = await users(db)
          .insert({
            id: user.id,
            email: normalizeEmail(user.email),
            full_name: user.fullName,
            password_hash: user.passwordHash,
            role: user.role,
          })
          .returning('*');
        return toRecord(row as Row);
      } catch (err) {
        if (sqlState(err) === '23505') throw new EmailTakenError();
        throw err;
      }
    },
    async findByEmail(db, email) {
      const row = await users(db).whereRaw('lower(email) = ?', [normalizeEmail(email)]).first();
      return row ? toRecord(row as Row) : undefined;
    },
    async findById(db, id) {
      const [row] = await queryPrepared<Row>(db, byId, [id]);
      return row ? toRecord(row) : undefined;
    },
    async updatePasswordHash(db, id, passwordHash) {
      await users(db).where({ id }).update({ password_hash: passwordHash, updated_at: new Date() });
    },
    async updateRole(db, id, role) {
      const [row] = await users(db).where({ id }).update({ role, updated_at: new Date() }).returning('*');
      return row ? toRecord(row as Row) : undefined;
    },
  };
}
