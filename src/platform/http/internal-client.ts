import {
  BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleAll, handleWhen, retry, timeout, TimeoutStrategy, wrap,
  CircuitState, type CircuitBreakerPolicy, type IPolicy,
} from 'cockatiel';
import { LRUCache } from 'lru-cache';
import type { z } from 'zod';
import type { ServiceCredential } from '../auth/service-credential.ts';
import { ServiceUnavailableError } from '../errors.ts';

export interface InternalClientOptions {
  /** the module this client calls (`movie`), named in errors, metrics and readiness */
  target: string;
  /** SERVICE_URL_<TARGET> */
  baseUrl: string;
  /** this deployment's service credential, sent on /internal/… calls */
  credential?: ServiceCredential | undefined;
  /** one attempt's budget, connection to last body byte (INTERNAL_HTTP_TIMEOUT_MS) */
  timeoutMs?: number;
  /** extra attempts of a GET after a transient failure (INTERNAL_HTTP_RETRIES); other methods never retry */
  retries?: number;
  /** consecutive failed attempts that open the circuit (INTERNAL_CIRCUIT_THRESHOLD) */
  circuitThreshold?: number;
  /** how long an open circuit refuses calls before one is let through to test the target (INTERNAL_CIRCUIT_HALF_OPEN_MS) */
  halfOpenAfterMs?: number;
}

/** A whole answer: bodies of internal calls are small JSON, read inside the attempt's time budget. */
export interface InternalResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** sign the call with the service credential (default: when the path is under /internal/) */
  signed?: boolean;
}

export type CircuitStateName = 'closed' | 'half-open' | 'open';

/** 0 closed, 1 half-open, 2 open: the gauge's values, in order of trouble */
export const CIRCUIT_GAUGE_VALUE: Record<CircuitStateName, number> = { closed: 0, 'half-open': 1, open: 2 };

/** A target that did not answer usably (network, timeout, 5xx): what retries and the circuit count. */
class TransientFailure extends Error {}

const IDEMPOTENT = new Set(['GET', 'HEAD']);

/**
 * How one process calls another module's process. Every attempt has a deadline; a GET that fails
 * transiently is tried again after a jittered exponential pause (a POST is not: it may have happened);
 * a circuit breaker per target stops calling a target that keeps failing, so a dead dependency costs a
 * fast 503 rather than a timeout per request, and lets one call through now and then to notice it is back.
 * Every failure is a ServiceUnavailableError naming the target; 4xx answers are the caller's to read.
 */
export class InternalClient {
  readonly target: string;
  private readonly options: InternalClientOptions;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly once: IPolicy;
  private readonly withRetries: IPolicy;
  /** revalidated reads: the last answer of a path with its ETag */
  private readonly validated = new LRUCache<string, { etag: string; value: unknown }>({ max: 500 });

  constructor(options: InternalClientOptions) {
    this.options = options;
    this.target = options.target;
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.halfOpenAfterMs ?? 5_000,
      breaker: new ConsecutiveBreaker(options.circuitThreshold ?? 5),
    });
    const perAttempt = timeout(options.timeoutMs ?? 3_000, TimeoutStrategy.Aggressive);
    this.once = wrap(this.breaker, perAttempt);
    // an open circuit is an answer, not a failure to try again
    const again = retry(handleWhen((err) => !(err instanceof BrokenCircuitError)), {
      maxAttempts: options.retries ?? 2,
      backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 1_000 }),
    });
    this.withRetries = wrap(again, this.breaker, perAttempt);
  }

  get state(): CircuitStateName {
    const s = this.breaker.state;
    return s === CircuitState.Closed ? 'closed' : s === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  /** Any method; a 4xx comes back as the answer, everything that is not an answer is a 503. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<InternalResponse> {
    const policy = IDEMPOTENT.has(method) ? this.withRetries : this.once;
    const signed = options.signed ?? path.startsWith('/internal/');
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    try {
      // minted once per minute or so, outside the policies: a missing secret is a misconfiguration, not an outage
      if (signed) headers['authorization'] = `Bearer ${await this.credential().token()}`;
    } catch (err) {
      throw this.unavailable(`cannot be called: ${err instanceof Error ? err.message : String(err)}`);
    }
    try {
      return await policy.execute(async ({ signal }) => {
        const body = options.body === undefined ? undefined : JSON.stringify(options.body);
        let res: Response;
        let text: string;
        try {
          res = await fetch(new URL(path, this.options.baseUrl), { method, headers, signal, ...(body === undefined ? {} : { body }) });
          text = await res.text();
        } catch (err) {
          throw new TransientFailure(err instanceof Error && err.name !== 'Error' ? `${err.name}: ${err.message}` : String(err));
        }
        if (res.status >= 500) throw new TransientFailure(`answered ${res.status}`);
        return { status: res.status, headers: res.headers, text };
      });
    } catch (err) {
      if (err instanceof BrokenCircuitError) throw this.unavailable('is unavailable (circuit open after repeated failures)');
      if (err instanceof TransientFailure) throw this.unavailable(`did not answer usably: ${err.message}`);
      // a timeout (cockatiel's TaskCancelledError) or anything else on the way
      throw this.unavailable(`did not answer: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /**
   * A read by GET: the parsed body, or undefined on 404 ("no such thing"). A refused credential (401/403),
   * any other status, or a body that does not match the facade's contract is a 503, never a wrong answer.
   */
  async get<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const res = await this.request('GET', path);
    if (res.status === 404) return undefined;
    return this.parse(res, schema);
  }

  /**
   * A read by GET whose last answer is kept with its ETag and revalidated on every call (If-None-Match):
   * as fresh as a plain `get` — the target decides — but a 304 carries no body and costs no parse. For
   * big answers that rarely change (a showtime's seat layout on every booking).
   */
  async getRevalidated<T>(path: string, schema: z.ZodType<T>): Promise<T | undefined> {
    const known = this.validated.get(path);
    const res = await this.request('GET', path, known ? { headers: { 'if-none-match': known.etag } } : {});
    if (res.status === 304 && known) return known.value as T;
    if (res.status === 404) {
      this.validated.delete(path);
      return undefined;
    }
    const value = this.parse(res, schema);
    const etag = res.headers.get('etag');
    if (etag) this.validated.set(path, { etag, value });
    return value;
  }

  private parse<T>(res: InternalResponse, schema: z.ZodType<T>): T {
    if (res.status !== 200) throw this.unavailable(`answered ${res.status}`);
    let json: unknown;
    try {
      json = JSON.parse(res.text);
    } catch {
      json = undefined;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw this.unavailable('sent an answer that does not match the facade contract');
    return parsed.data;
  }

  unavailable(what: string): ServiceUnavailableError {
    return new ServiceUnavailableError(`the ${this.target} service ${what}`, { service: this.target });
  }

  private credential(): ServiceCredential {
    if (!this.options.credential) throw new Error('this process has no service credential');
    return this.options.credential;
  }
}
