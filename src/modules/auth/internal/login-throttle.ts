import { createHash } from 'node:crypto';
import { RateLimiterRes, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../../../platform/errors.ts';
import { createLimiter, createMarks, type Marks, type ThrottleStore } from './throttle-store.ts';

export interface LoginThrottleOptions {
  /** Redis, or the auth schema's tables (BACKEND=postgres) */
  store: ThrottleStore;
  keyPrefix: string;
  /** failures on one account from one address before that pair is refused for the window */
  maxFailuresPerAccountAddress: number;
  /** failures from one address, any accounts, before the address is refused for the window */
  maxFailuresPerIp: number;
  /** failures on one account, from anywhere, before each further attempt must wait a growing delay */
  accountDelayAfter: number;
  /** the longest such delay */
  accountMaxDelaySeconds: number;
  /** how long an address that logged in to an account stays exempt from that account's delay (0: never) */
  knownAddressDays: number;
  windowSeconds: number;
}

export type ThrottleScope = 'account_address' | 'ip' | 'account';

const DETAIL: Record<ThrottleScope, string> = {
  account_address: 'too many failed logins for this account from this address; try again later',
  ip: 'too many failed logins from this address; try again later',
  account: 'this account has seen many failed logins; wait before the next attempt',
};

export class LoginThrottledError extends TooManyRequestsError {
  readonly scope: ThrottleScope;

  constructor(scope: ThrottleScope, retryAfterSeconds: number) {
    super(DETAIL[scope], retryAfterSeconds);
    this.scope = scope;
  }
}

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('base64url');

/**
 * Failed-login throttling that a stranger cannot turn against the account's owner (ADR 0043, after
 * OWASP's Authentication Cheat Sheet):
 *  - account + address: a hard limit, but only that pair is refused — a stranger locks out only himself;
 *  - address: a hard limit across accounts (one host stuffing credentials);
 *  - account, from anywhere (a distributed guesser): no lock, a delay that doubles with each failure past
 *    a threshold (1 s, 2 s, 4 s … up to the cap), refused with Retry-After before the password is checked;
 *    addresses that logged in to the account before are exempt, so its owner is not slowed by strangers.
 * Counters live in Redis or in Postgres (rate-limiter-flexible), shared by every replica; when the store
 * is unreachable they fall back to this process's memory rather than failing logins or dropping the
 * protection.
 */
export class LoginThrottle {
  private readonly byPair: RateLimiterStoreAbstract;
  private readonly byIp: RateLimiterStoreAbstract;
  private readonly byAccount: RateLimiterStoreAbstract;
  private readonly accountGate: RateLimiterStoreAbstract;
  private readonly known: Marks;
  private readonly options: LoginThrottleOptions;

  constructor(options: LoginThrottleOptions) {
    this.options = options;
    this.known = createMarks(options.store);
    const make = (scope: string, points: number) =>
      createLimiter(options.store, { keyPrefix: `${options.keyPrefix}login:${scope}`, points, duration: options.windowSeconds });
    this.byPair = make('pair', options.maxFailuresPerAccountAddress);
    this.byIp = make('ip', options.maxFailuresPerIp);
    // a counter, never a limit in itself: the gate below turns its count into a delay
    this.byAccount = make('acct', Number.MAX_SAFE_INTEGER);
    this.accountGate = make('acct-wait', 1);
  }

  private knownKey(email: string, ip: string): string {
    return `${this.options.keyPrefix}login:known:${hash(email, ip)}`;
  }

  private async isKnownAddress(email: string, ip: string): Promise<boolean> {
    if (this.options.knownAddressDays === 0) return false;
    try {
      return await this.known.has(this.knownKey(email, ip));
    } catch {
      return false; // without its store every address is a stranger's: the delay still protects the account
    }
  }

  /** Refuse before checking the password when a budget is spent or the account's delay is running. */
  async check(email: string, ip: string): Promise<void> {
    const account = hash(email);
    const [pair, address, gate] = await Promise.all([
      this.byPair.get(hash(email, ip)),
      this.byIp.get(ip),
      this.accountGate.get(account),
    ]);
    if (pair && pair.consumedPoints >= this.byPair.points) throw new LoginThrottledError('account_address', pair.msBeforeNext / 1000);
    if (address && address.consumedPoints >= this.byIp.points) throw new LoginThrottledError('ip', address.msBeforeNext / 1000);
    if (gate && gate.consumedPoints > this.accountGate.points && !(await this.isKnownAddress(email, ip))) {
      throw new LoginThrottledError('account', gate.msBeforeNext / 1000);
    }
  }

  /** The delay after the n-th failure on an account: none up to the threshold, then 1 s doubling to the cap. */
  delayAfter(failures: number): number {
    const past = failures - this.options.accountDelayAfter;
    if (past < 0) return 0;
    return Math.min(2 ** Math.min(past, 30), this.options.accountMaxDelaySeconds);
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const counted = (p: Promise<RateLimiterRes>) =>
      p.catch((err: unknown) => {
        if (err instanceof RateLimiterRes) return err;
        throw err;
      });
    const account = hash(email);
    const [, , total] = await Promise.all([
      counted(this.byPair.consume(hash(email, ip))),
      counted(this.byIp.consume(ip)),
      counted(this.byAccount.consume(account)),
    ]);
    const delay = this.delayAfter(total.consumedPoints);
    if (delay > 0) await this.accountGate.block(account, delay);
  }

  /**
   * A success clears this pair's count and remembers the address for the account. The account-wide
   * count is left to its window: a success in the middle of a distributed attack must not hand the
   * attackers a fresh allowance.
   */
  async recordSuccess(email: string, ip: string): Promise<void> {
    await this.byPair.delete(hash(email, ip));
    if (this.options.knownAddressDays === 0) return;
    try {
      await this.known.set(this.knownKey(email, ip), this.options.knownAddressDays * 86_400);
    } catch {
      // not remembered: the address is treated as a stranger's until the next successful login
    }
  }
}
