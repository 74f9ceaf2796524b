export type CheckFn = () => Promise<unknown>;

export interface HealthCheck {
  name: string;
  check: CheckFn;
  /** false: a failure is reported as `degraded` and does not make the process unready */
  critical: boolean;
}

export interface ReadinessReport {
  ready: boolean;
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

  private readonly timeoutMs: number;

  constructor(timeoutMs = 2_000) {
    this.timeoutMs = timeoutMs;
  }

  /**
   * A readiness check. `critical: false` is for what the process can serve without (a remote module
   * behind an open circuit): shown in the body, never a reason to take the pod out of the load balancer.
   */
  register(name: string, check: CheckFn, options: { critical?: boolean } = {}): void {
    this.checks.push({ name, check, critical: options.critical ?? true });
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
          return [name, { status: critical ? ('failing' as const) : ('degraded' as const), error, ms: Math.round(performance.now() - t0) }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ready = this.started && !this.draining && results.every(([, r]) => r.status !== 'failing');
    return { ready, checks };
  }
}
