import type { ServiceCredential } from '../auth/service-credential.ts';
import type { Health } from '../health.ts';
import type { Metrics } from '../metrics.ts';
import { CIRCUIT_GAUGE_VALUE, InternalClient, type InternalClientOptions } from './internal-client.ts';

export type InternalClientSettings = Pick<InternalClientOptions, 'timeoutMs' | 'retries' | 'circuitThreshold' | 'halfOpenAfterMs'>;

/** Makes a process's InternalClient for each remote module, and shows their circuits. */
export interface InternalClients {
  for(target: string, baseUrl: string): InternalClient;
  readonly all: InternalClient[];
}

/**
 * One client (one circuit) per target service. Each circuit's state is a gauge in /metrics
 * (internal_circuit_state{target}: 0 closed, 1 half-open, 2 open) and a non-critical readiness check:
 * an open circuit shows in /health/ready's body as `degraded`, but the process stays ready — its other
 * routes (and the fast 503s of the ones that need the target) are still worth serving, and pulling every
 * replica of a caller out of the load balancer because a callee is down would only turn a partial
 * outage into a total one.
 */
export function createInternalClients(options: { credential: ServiceCredential; metrics: Metrics; health: Health; settings?: InternalClientSettings }): InternalClients {
  const clients = new Map<string, InternalClient>();
  options.metrics.gauge('internal_circuit_state', 'Circuit breaker per called service: 0 closed, 1 half-open, 2 open', ['target'], {
    collect: (gauge) => {
      for (const c of clients.values()) gauge.set({ target: c.target }, CIRCUIT_GAUGE_VALUE[c.state]);
    },
    // several processes of one pod, each with its own circuits: the worst one is the pod's state, never a sum
    aggregator: 'max',
  });
  return {
    for(target, baseUrl) {
      const existing = clients.get(target);
      if (existing) return existing;
      const client = new InternalClient({ target, baseUrl, credential: options.credential, ...options.settings });
      clients.set(target, client);
      options.health.register(`service:${target}`, async () => {
        if (client.state === 'open') throw new Error(`circuit open: calls to the ${target} service fail fast (503) until it answers again`);
        return client.state;
      }, { critical: false });
      return client;
    },
    get all() {
      return [...clients.values()];
    },
  };
}
