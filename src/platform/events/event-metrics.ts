import { Gauge, type Counter, type Histogram, type Registry } from 'prom-client';
import type { Metrics } from '../metrics.ts';
import type { OutboxLag } from './outbox-store.ts';

export type ConsumeOutcome = 'handled' | 'duplicate' | 'skipped' | 'disabled' | 'retried' | 'dead_lettered' | 'malformed';

export interface EventMetrics {
  published: Counter<'schema' | 'event_type'>;
  publishFailures: Counter<'schema'>;
  consumed: Counter<'queue' | 'event_type' | 'outcome'>;
  handlerDuration: Histogram<'queue' | 'event_type'>;
  /** report a relay's lag on every scrape (outbox_pending_events, outbox_held_events, …) */
  trackLag(schema: string, lag: () => Promise<OutboxLag>): () => void;
}

const lagSources = new WeakMap<Registry, Map<string, () => Promise<OutboxLag>>>();

function lagGauges(registry: Registry): Map<string, () => Promise<OutboxLag>> {
  let sources = lagSources.get(registry);
  if (sources) return sources;
  const found = new Map<string, () => Promise<OutboxLag>>();
  sources = found;
  lagSources.set(registry, found);
  const latest = new Map<string, OutboxLag>();
  const refresh = async () => {
    await Promise.all(
      [...found].map(async ([schema, lag]) => {
        try {
          latest.set(schema, await lag());
        } catch {
          // database unreachable: keep the last values rather than failing the whole scrape
        }
      }),
    );
  };
  // one query per scrape: the four gauges are collected concurrently and share one refresh
  let inflight: Promise<void> | undefined;
  const refreshOnce = () => (inflight ??= refresh().finally(() => (inflight = undefined)));
  const gauge = (name: string, help: string, pick: (l: OutboxLag) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['schema'] as const,
      registers: [registry],
      async collect() {
        await refreshOnce();
        this.reset();
        for (const [schema, lag] of latest) if (found.has(schema)) this.set({ schema }, pick(lag));
      },
    });
  gauge('outbox_pending_events', 'Unpublished outbox rows the relay should publish (incl. parked)', (l) => l.pending);
  gauge('outbox_held_events', 'Unpublished outbox rows held back because their publish_<domain>_events flag is off', (l) => l.held);
  gauge('outbox_parked_events', 'Outbox rows that exhausted their publish attempts', (l) => l.parked);
  gauge('outbox_oldest_pending_age_seconds', 'Age of the oldest pending outbox row', (l) => l.oldestPendingAgeSeconds);
  return found;
}

/** The event backbone's metrics on the process registry (idempotent per registry). */
export function eventMetrics(metrics: Metrics): EventMetrics {
  const sources = lagGauges(metrics.registry);
  return {
    published: metrics.counter('events_published_total', 'Events published to the broker (confirmed)', ['schema', 'event_type']),
    publishFailures: metrics.counter('events_publish_failures_total', 'Outbox rows whose publish failed (nack, timeout, invalid)', ['schema']),
    consumed: metrics.counter('events_consumed_total', 'Events received by consumers, by outcome', ['queue', 'event_type', 'outcome']),
    handlerDuration: metrics.histogram(
      'event_handler_duration_seconds',
      'Time to apply one event (inbox insert + handler + commit)',
      ['queue', 'event_type'],
      [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    ),
    trackLag(schema, lag) {
      sources.set(schema, lag);
      return () => {
        if (sources.get(schema) === lag) sources.delete(schema);
      };
    },
  };
}
