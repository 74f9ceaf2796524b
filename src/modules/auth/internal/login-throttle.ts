import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../../../platform/errors.ts';
import type { Redis } from '../../../platform/redis.ts';

export interface LoginThrottleOptions {
  redis: Redis;
  keyPrefix: string;
  maxFailuresPerAccount: number;
  maxFailuresPerIp: number;
  windowSeconds: number;
}

export class LoginThrottledError extends TooManyRequestsError {
  readonly scope: 'account' | 'ip';

  constructor(scope: 'account' | 'ip', retryAfterSeconds: number) {
    super(
      scope === 'account'
        ? 'too many failed logins for this account; try again later'
        : 'too many failed logins from this address; try again later',
      retryAfterSeconds,
    );
    this.scope = scope;
  }
}

/**
 * Counts failed logins per account and per client address in Redis (rate-limiter-flexible). When
 * Redis is unreachable the counting falls back to this process's memory rather than failing logins
 * or dropping the protection.
 */
export class LoginThrottle {
  private readonly byAccount: RateLimiterRedis;
  private readonly byIp: RateLimiterRedis;

  constructor(options: LoginThrottleOptions) {
    const make = (scope: string, points: number) =>
      new RateLimiterRedis({
        storeClient: options.redis,
        useRedisPackage: true,
        keyPrefix: `${options.keyPrefix}login:${scope}`,
        points,
        duration: options.windowSeconds,
        insuranceLimiter: new RateLimiterMemory({ points, duration: options.windowSeconds }),
      });
    this.byAccount = make('acct', options.maxFailuresPerAccount);
    this.byIp = make('ip', options.maxFailuresPerIp);
  }

  private static accountKey(email: string): string {
    return createHash('sha256').update(email).digest('base64url');
  }

  /** Refuse before checking the password when either budget is spent. */
  async check(email: string, ip: string): Promise<void> {
    const [account, address] = await Promise.all([
      this.byAccount.get(LoginThrottle.accountKey(email)),
      this.byIp.get(ip),
    ]);
    if (account && account.consumedPoints >= this.byAccount.points) {
      throw new LoginThrottledError('account', account.msBeforeNext / 1000);
    }
    if (address && address.consumedPoints >= this.byIp.points) {
      throw new LoginThrottledError('ip', address.msBeforeNext / 1000);
    }
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const swallowLimit = (err: unknown) => {
      if (!(err instanceof RateLimiterRes)) throw err;
    };
    await Promise.all([
      this.byAccount.consume(LoginThrottle.accountKey(email)).catch(swallowLimit),
      this.byIp.consume(ip).catch(swallowLimit),
    ]);
  }

  /** A successful login clears the account's count (not the address's). */
  async recordSuccess(email: string): Promise<void> {
    await this.byAccount.delete(LoginThrottle.accountKey(email));
  }
}
