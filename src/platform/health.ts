export type CheckFn = () => Promise<unknown>;

export interface HealthCheck {
  name: string;
  check: CheckFn;
  /** false: the process serves without it (a fallback exists); a failure is reported, never makes it unready */
  critical: boolean;
}

export interface CheckOptions {
  critical?: boolean;
}

export interface ReadinessReport {
  ready: boolean;
  /** what this process runs on, e.g. `{ events: 'postgres' }` (ADR 0077) */
  profile: Record<string, string>;
  /** non-critical checks that fail: the process serves, with less (e.g. no cache, per-process throttling) */
  degraded: string[];
  checks: Record<string, { status: 'ok' | 'failing' | 'degraded'; error?: string; ms: number }>;
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });

/** Probe state: startup completes once, readiness asks every dependency, draining forces not-ready. */
export class Health {
  private readonly checks: HealthCheck[] = [];
  private started = false;
  private draining = false;
  private profile: Record<string, string> = {};

  private readonly timeoutMs: number;

  constructor(timeoutMs = 2_000) {
    this.timeoutMs = timeoutMs;
  }

  /**
   * Readiness asks only what the process cannot serve without: a Kubernetes pod that is unready for a
   * dependency it degrades around would be taken out of service for nothing. Such checks pass
   * `{ critical: false }` and show as `degraded`.
   */
  register(name: string, check: CheckFn, options: CheckOptions = {}): void {
    this.checks.push({ name, check, critical: options.critical ?? true });
  }

  /** Name the backends this process uses, shown by readiness next to the checks of exactly those. */
  describeProfile(profile: Record<string, string>): void {
    this.profile = { ...this.profile, ...profile };
  }

  markStarted(): void {
    this.started = true;
  }

  markDraining(): void {
    this.draining = true;
  }

  get isStarted(): boolean {
    return this.started;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  async readiness(): Promise<ReadinessReport> {
    const results = await Promise.all(
      this.checks.map(async ({ name, check, critical }) => {
        const t0 = performance.now();
        try {
          await withTimeout(check(), this.timeoutMs);
          return [name, { status: 'ok' as const, ms: Math.round(performance.now() - t0) }] as const;
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          const status = critical ? ('failing' as const) : ('degraded' as const);
          return [name, { status, error, ms: Math.round(performance.now() - t0) }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ready = this.started && !this.draining && results.every(([, r]) => r.status !== 'failing');
    const degraded = results.filter(([, r]) => r.status === 'degraded').map(([name]) => name);
    return { ready, profile: this.profile, degraded, checks };
  }
}
