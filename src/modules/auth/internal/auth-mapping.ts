import { EPOCH_SQL, f, type ModuleMapping } from '../../../platform/mapping/aggregate-mapping.ts';

/**
 * Where auth's data lives on each side (ADR 0050). Users move; refresh tokens and the audit log were
 * born in the auth schema (the old system had neither) and stay there in every phase.
 */
export function createAuthMapping(ownSchema = 'auth'): ModuleMapping {
  return {
    module: 'auth',
    ownSchema,
    aggregates: [
      {
        module: 'auth',
        name: 'users',
        description: 'an account: email, name, password hash, role, whether it may log in',
        legacy: {
          table: 'users',
          fields: [
            f.uuid('id'),
            f.text('email'),
            f.text('full_name'),
            f.text('password_hash', { column: 'hashed_password' }),
            // the old table allowed any role text and NULL; the store reads anything but admin as user
            f.text('role', { read: `CASE WHEN t.role = 'admin' THEN 'admin' ELSE 'user' END` }),
            f.bool('is_active', { read: 'COALESCE(t.is_active, true)' }),
            f.timestamp('created_at', { read: `COALESCE(t.created_at, ${EPOCH_SQL})` }),
            f.timestamp('updated_at', { read: `COALESCE(t.updated_at, t.created_at, ${EPOCH_SQL})` }),
          ],
        },
        own: {
          table: 'users',
          fields: [
            f.uuid('id'),
            f.text('email'),
            f.text('full_name'),
            f.text('password_hash'),
            f.text('role'),
            f.bool('is_active'),
            f.timestamptz('created_at'),
            f.timestamptz('updated_at'),
          ],
        },
      },
    ],
    ownOnly: [
      { table: 'refresh_tokens', why: 'new with the auth module (rotating refresh tokens); the old system issued none' },
      { table: 'audit_log', why: 'new with the auth module; the old system kept no audit trail' },
    ],
  };
}
