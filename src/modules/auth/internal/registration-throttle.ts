import { RateLimiterRes, type RateLimiterStoreAbstract } from 'rate-limiter-flexible';
import { TooManyRequestsError } from '../../../platform/errors.ts';
import { createLimiter, type ThrottleStore } from './throttle-store.ts';

export interface RegistrationThrottleOptions {
  store: ThrottleStore;
  keyPrefix: string;
  /** registration attempts per client address per window; 0 turns the throttle off */
  maxPerIp: number;
  windowSeconds: number;
}

export class RegistrationThrottledError extends TooManyRequestsError {
  constructor(retryAfterSeconds: number) {
    super('too many registrations from this address; try again later', retryAfterSeconds);
  }
}

/**
 * Registration attempts per client address (rate-limiter-flexible, as the login throttle). Every
 * attempt that passed validation counts, taken or not: each costs an argon2 hash, and a burst of
 * accounts is how one person gets past per-account limits such as the seat-hold caps.
 */
export class RegistrationThrottle {
  private readonly limiter: RateLimiterStoreAbstract | undefined;

  constructor(options: RegistrationThrottleOptions) {
    if (options.maxPerIp === 0) return;
    this.limiter = createLimiter(options.store, { keyPrefix: `${options.keyPrefix}register:ip`, points: options.maxPerIp, duration: options.windowSeconds });
  }

  /** Count one attempt from `ip`; throws RegistrationThrottledError once the address's budget is spent. */
  async consume(ip: string): Promise<void> {
    if (!this.limiter) return;
    try {
      await this.limiter.consume(ip);
    } catch (err) {
      if (err instanceof RateLimiterRes) throw new RegistrationThrottledError(err.msBeforeNext / 1000);
      throw err;
    }
  }
}
