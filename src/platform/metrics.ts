import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /**
   * The Prometheus text /metrics answers: this registry's, or in a web process of a cluster
   * (WEB_CONCURRENCY > 1) every process's, summed by the primary (src/platform/cluster.ts)
   */
  exposition(): Promise<string>;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L>;
  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets?: number[]): Histogram<L>;
  /**
   * A gauge whose value is read when /metrics is scraped (`collect` sets it). `aggregator`: how the values
   * of several processes of one pod are combined when their metrics are summed up (prom-client's cluster aggregation).
   */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], options?: { collect?: (gauge: Gauge<L>) => void; aggregator?: 'sum' | 'max' | 'min' | 'average' }): Gauge<L>;
}

/** One registry per process (or per test app): default process metrics plus the HTTP histogram. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    exposition: () => registry.metrics(),
    httpDuration,
    counter(name, help, labelNames) {
      const existing = registry.getSingleMetric(name);
      if (existing) return existing as Counter<(typeof labelNames)[number]>;
      return new Counter({ name, help, labelNames, registers: [registry] });
    },
    histogram(name, help, labelNames, buckets) {
      const existing = registry.getSingleMetric(name);
      if (existing) return existing as Histogram<(typeof labelNames)[number]>;
      return new Histogram({ name, help, labelNames, registers: [registry], ...(buckets ? { buckets } : {}) });
    },
    gauge(name, help, labelNames, options = {}) {
      const existing = registry.getSingleMetric(name);
      if (existing) return existing as Gauge<(typeof labelNames)[number]>;
      const { collect, aggregator } = options;
      return new Gauge({ name, help, labelNames, registers: [registry], ...(aggregator ? { aggregator } : {}), ...(collect ? { collect() { collect(this); } } : {}) });
    },
  };
}
