export type CheckFn = () => Promise<unknown>;

export interface HealthCheck {
  name: string;
  check: CheckFn;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { status: 'ok' | 'failing'; error?: string; ms: number }>;
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

  register(name: string, check: CheckFn): void {
    this.checks.push({ name, check });
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
      this.checks.map(async ({ name, check }) => {
        const t0 = performance.now();
        try {
          await withTimeout(check(), this.timeoutMs);
          return [name, { status: 'ok' as const, ms: Math.round(performance.now() - t0) }] as const;
        } catch (e) {
          const error = e instanceof Error ? e.message : String(e);
          return [name, { status: 'failing' as const, error, ms: Math.round(performance.now() - t0) }] as const;
        }
      }),
    );
    const checks = Object.fromEntries(results);
    const ready = this.started && !this.draining && results.every(([, r]) => r.status === 'ok');
    return { ready, checks };
  }
}
