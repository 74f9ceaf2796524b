import { randomUUID } from 'node:crypto';
import type { TokenVerifier } from '../../../platform/auth/jwt-verifier.ts';
import type { Principal, Role } from '../../../platform/auth/principal.ts';
import type { Db, Knex } from '../../../platform/db.ts';
import { transactionWithRetry } from '../../../platform/db-retry.ts';
import { NotFoundError, ValidationError } from '../../../platform/errors.ts';
import { buildEnvelope } from '../../../platform/events/envelope.ts';
import { appendToOutbox } from '../../../platform/events/outbox.ts';
import type { Flags } from '../../../platform/flags.ts';
import type { Logger } from '../../../platform/logger.ts';
import { recordAudit } from './audit-log.ts';
import { InvalidCredentialsError, InvalidRefreshTokenError } from './errors.ts';
import { userCreatedV1, userUpdatedV1 } from './events.ts';
import { LoginThrottledError, type LoginThrottle } from './login-throttle.ts';
import { burnPasswordCheck, hashPassword, verifyPassword } from './passwords.ts';
import { RegistrationThrottledError, type RegistrationThrottle } from './registration-throttle.ts';
import type { RefreshTokenStore } from './refresh-token-store.ts';
import { emailSchema, passwordSchema, type LoginInput, type RegisterInput } from './schemas.ts';
import type { TokenIssuer } from './token-issuer.ts';
import { normalizeEmail, type UserRecord, type UserStore } from './user-store.ts';

export interface RequestMeta {
  ip: string;
  userAgent?: string | undefined;
}

export interface UserView {
  id: string;
  email: string;
  full_name: string | null;
  role: Role;
  created_at: string;
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
}

export interface AuthServiceDeps {
  db: Knex;
  users: UserStore;
  refreshTokens: RefreshTokenStore;
  issuer: TokenIssuer;
  verifier: TokenVerifier;
  throttle: LoginThrottle;
  registrations: RegistrationThrottle;
  flags: Flags;
  logger: Logger;
  refreshTtlSeconds: number;
}

const SOURCE = 'auth';

export const toView = (u: UserRecord): UserView => ({
  id: u.id,
  email: u.email,
  full_name: u.fullName,
  role: u.role,
  created_at: u.createdAt.toISOString(),
});

export class AuthService {
  private readonly d: AuthServiceDeps;

  constructor(deps: AuthServiceDeps) {
    this.d = deps;
  }

  /** Run a throttle's check; a refusal is written to the audit log (with its scope) before it reaches the client. */
  private async throttled(check: Promise<void>, action: 'login_throttled' | 'register_throttled', email: string, meta: RequestMeta): Promise<void> {
    try {
      await check;
    } catch (err) {
      if (err instanceof LoginThrottledError || err instanceof RegistrationThrottledError) {
        const detail = err instanceof LoginThrottledError ? { detail: { scope: err.scope } } : {};
        await recordAudit(this.d.db, { action, outcome: 'failure', email, ...meta, ...detail });
      }
      throw err;
    }
  }

  async register(input: RegisterInput, meta: RequestMeta): Promise<UserView> {
    await this.throttled(this.d.registrations.consume(meta.ip), 'register_throttled', input.email, meta);
    const passwordHash = await hashPassword(input.password);
    const user = await transactionWithRetry(this.d.db, async (trx) => {
      const created = await this.d.users.insert(trx, {
        id: randomUUID(),
        email: input.email,
        fullName: input.full_name,
        passwordHash,
        role: 'user',
      });
      await this.announceCreated(trx, created);
      await recordAudit(trx, { action: 'register', outcome: 'success', userId: created.id, email: created.email, ...meta });
      return created;
    });
    return toView(user);
  }

  async login(input: LoginInput, meta: RequestMeta): Promise<TokenPair> {
    const email = normalizeEmail(input.email);
    await this.throttled(this.d.throttle.check(email, meta.ip), 'login_throttled', email, meta);
    const user = await this.d.users.findByEmail(this.d.db, email);
    if (!user) {
      await burnPasswordCheck(input.password);
      return this.failLogin(email, meta, 'unknown_email');
    }
    const check = await verifyPassword(user.passwordHash, input.password);
    if (!check.ok) return this.failLogin(email, meta, 'bad_password', user.id);
    if (!user.isActive) return this.failLogin(email, meta, 'inactive', user.id);
    if (check.needsRehash) {
      await this.d.users.updatePasswordHash(this.d.db, user.id, await hashPassword(input.password));
      await recordAudit(this.d.db, {
        action: 'password_rehashed',
        outcome: 'success',
        userId: user.id,
        email,
        ...meta,
        detail: { from: check.scheme, to: 'argon2id' },
      });
    }
    await this.d.throttle.recordSuccess(email, meta.ip);
    const pair = await this.issuePair(this.d.db, user);
    await recordAudit(this.d.db, { action: 'login', outcome: 'success', userId: user.id, email, ...meta, detail: { alg: pair.alg } });
    return pair.tokens;
  }

  private async failLogin(email: string, meta: RequestMeta, reason: string, userId?: string): Promise<never> {
    await this.d.throttle.recordFailure(email, meta.ip);
    await recordAudit(this.d.db, { action: 'login', outcome: 'failure', userId: userId ?? null, email, ...meta, detail: { reason } });
    throw new InvalidCredentialsError();
  }

  private async issuePair(db: Db, user: UserRecord, familyId?: string) {
    const alg = this.d.flags.isEnabled('use_rs256_tokens', { userId: user.id }) ? 'RS256' : 'HS256';
    const access = await this.d.issuer.issue(user, alg);
    const refresh = await this.d.refreshTokens.issue(db, user.id, this.d.refreshTtlSeconds, familyId);
    const tokens: TokenPair = {
      access_token: access.token,
      refresh_token: refresh.token,
      token_type: 'bearer',
      expires_in: access.expiresIn,
    };
    return { tokens, refreshId: refresh.id, alg: access.alg };
  }

  /**
   * Rotate a refresh token. Presenting one that was already rotated means it leaked (or a client
   * raced itself): the whole family is revoked and the caller must log in again.
   */
  async refresh(token: string, meta: RequestMeta): Promise<TokenPair> {
    const outcome = await transactionWithRetry(this.d.db, async (trx) => {
      const row = await this.d.refreshTokens.lockByToken(trx, token);
      if (!row) return { kind: 'invalid' as const, detail: 'refresh token is not known' };
      if (row.revoked_at) return { kind: 'invalid' as const, detail: 'refresh token was revoked' };
      if (row.rotated_at) {
        const revoked = await this.d.refreshTokens.revokeFamily(trx, row.family_id, 'reuse_detected');
        await recordAudit(trx, {
          action: 'refresh_token_reuse',
          outcome: 'failure',
          userId: row.user_id,
          ...meta,
          detail: { family_id: row.family_id, revoked },
        });
        return { kind: 'reuse' as const };
      }
      if (row.expires_at.getTime() <= Date.now()) return { kind: 'invalid' as const, detail: 'refresh token has expired' };
      const user = await this.d.users.findById(trx, row.user_id);
      if (!user || !user.isActive) {
        await this.d.refreshTokens.revokeFamily(trx, row.family_id, 'user_inactive');
        return { kind: 'invalid' as const, detail: 'account is not active' };
      }
      const pair = await this.issuePair(trx, user, row.family_id);
      await this.d.refreshTokens.markRotated(trx, row.id, pair.refreshId);
      await recordAudit(trx, { action: 'token_refresh', outcome: 'success', userId: user.id, ...meta });
      return { kind: 'ok' as const, tokens: pair.tokens };
    });
    if (outcome.kind === 'ok') return outcome.tokens;
    if (outcome.kind === 'reuse') {
      this.d.logger.warn({ ip: meta.ip }, 'rotated refresh token presented again; token family revoked');
      throw new InvalidRefreshTokenError('refresh token was already used; all sessions of this login were revoked');
    }
    throw new InvalidRefreshTokenError(outcome.detail);
  }

  /** Revoke the refresh token's family. Idempotent: an unknown token is not an error. */
  async logout(token: string, meta: RequestMeta): Promise<void> {
    await transactionWithRetry(this.d.db, async (trx) => {
      const row = await this.d.refreshTokens.lockByToken(trx, token);
      if (!row) return;
      await this.d.refreshTokens.revokeFamily(trx, row.family_id, 'logout');
      await recordAudit(trx, { action: 'logout', outcome: 'success', userId: row.user_id, ...meta });
    });
  }

  async me(principal: Principal): Promise<UserView> {
    const user = await this.d.users.findById(this.d.db, principal.userId);
    if (!user) throw new NotFoundError('the account of this token no longer exists', 'user-not-found');
    return toView(user);
  }

  verifyToken(token: string): Promise<Principal> {
    return this.d.verifier.verify(token);
  }

  /**
   * Create an admin, or promote an existing account and set its password (the operator's intent:
   * "this address is an admin with this password").
   */
  async createAdmin(input: { email: string; password: string; fullName?: string | undefined }): Promise<{ user: UserView; created: boolean }> {
    const email = emailSchema.safeParse(input.email);
    const password = passwordSchema.safeParse(input.password);
    const problems = [
      ...(email.success ? [] : email.error.issues.map((i) => ({ field: 'email', message: i.message }))),
      ...(password.success ? [] : password.error.issues.map((i) => ({ field: 'password', message: i.message }))),
    ];
    if (!email.success || !password.success) throw new ValidationError(problems);
    const passwordHash = await hashPassword(password.data);
    return transactionWithRetry(this.d.db, async (trx) => {
      const existing = await this.d.users.findByEmail(trx, email.data);
      if (!existing) {
        const created = await this.d.users.insert(trx, {
          id: randomUUID(),
          email: email.data,
          fullName: input.fullName ?? null,
          passwordHash,
          role: 'admin',
        });
        await this.announceCreated(trx, created);
        await recordAudit(trx, { action: 'admin_created', outcome: 'success', userId: created.id, email: created.email, ip: 'cli' });
        return { user: toView(created), created: true };
      }
      await this.d.users.updatePasswordHash(trx, existing.id, passwordHash);
      const updated = (await this.d.users.updateRole(trx, existing.id, 'admin')) ?? existing;
      if (existing.role !== 'admin') {
        await appendToOutbox(
          trx,
          'auth',
          buildEnvelope(userUpdatedV1, { user_id: updated.id, changes: { role: 'admin' }, updated_at: new Date().toISOString() }, { source: SOURCE }),
        );
      }
      await recordAudit(trx, { action: 'role_changed', outcome: 'success', userId: updated.id, email: updated.email, ip: 'cli', detail: { role: 'admin' } });
      return { user: toView(updated), created: false };
    });
  }

  private async announceCreated(trx: Db, user: UserRecord): Promise<void> {
    await appendToOutbox(
      trx,
      'auth',
      buildEnvelope(
        userCreatedV1,
        { user_id: user.id, email: user.email, full_name: user.fullName, role: user.role, created_at: user.createdAt.toISOString() },
        { source: SOURCE },
      ),
    );
  }
}
