import { currentContext } from '../../../platform/context.ts';
import type { Db } from '../../../platform/db.ts';

export type AuditAction =
  | 'register'
  | 'register_throttled'
  | 'login'
  | 'login_throttled'
  | 'password_rehashed'
  | 'token_refresh'
  | 'refresh_token_reuse'
  | 'logout'
  | 'key_rotated'
  | 'admin_created'
  | 'role_changed';

export interface AuditEntry {
  action: AuditAction;
  outcome: 'success' | 'failure';
  userId?: string | null;
  email?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  detail?: Record<string, unknown>;
}

/** auth.audit_log: who did what, from where, with the request's correlation id. */
export async function recordAudit(db: Db, entry: AuditEntry, schema = 'auth'): Promise<void> {
  await db
    .withSchema(schema)
    .table('audit_log')
    .insert({
      action: entry.action,
      outcome: entry.outcome,
      user_id: entry.userId ?? null,
      email: entry.email ?? null,
      ip: entry.ip ?? null,
      user_agent: entry.userAgent?.slice(0, 512) ?? null,
      correlation_id: currentContext()?.correlationId ?? null,
      detail: entry.detail ?? {},
    });
}
