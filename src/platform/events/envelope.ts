import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { currentContext } from '../context.ts';
import { traceMetadata } from '../tracing/trace-context.ts';

/** The envelope of seed 002 §8.4.1. */
export const envelopeSchema = z.object({
  event_id: z.uuid(),
  event_type: z.string().regex(/^[a-z]+\.[a-z_]+(\.[a-z_]+)?$/),
  event_version: z.string().regex(/^\d+\.\d+$/),
  timestamp: z.iso.datetime({ offset: true }),
  correlation_id: z.string().min(1),
  causation_id: z.string().min(1).nullable(),
  source: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
  metadata: z.record(z.string(), z.unknown()),
});

export type Envelope<P = Record<string, unknown>> = Omit<z.infer<typeof envelopeSchema>, 'payload'> & { payload: P };

/** One event type at one version, with the schema its payload must satisfy. */
export interface EventDefinition<P extends Record<string, unknown>> {
  type: string;
  version: string;
  schema: z.ZodType<P>;
}

export function defineEvent<P extends Record<string, unknown>>(
  type: string,
  version: string,
  schema: z.ZodType<P>,
): EventDefinition<P> {
  return { type, version, schema };
}

export interface BuildOptions {
  source: string;
  correlationId?: string;
  causationId?: string | null;
  metadata?: Record<string, unknown>;
  now?: Date;
}

/**
 * Validate a payload and wrap it in an envelope. Correlation and causation default to the current
 * request or message, so a chain of events can be followed end to end. While the request is traced, its
 * `traceparent` goes into the metadata: the relay publishes later, and the consumer continues that trace.
 */
export function buildEnvelope<P extends Record<string, unknown>>(
  def: EventDefinition<P>,
  payload: P,
  options: BuildOptions,
): Envelope<P> {
  const ctx = currentContext();
  const parsed = def.schema.parse(payload);
  return {
    event_id: randomUUID(),
    event_type: def.type,
    event_version: def.version,
    timestamp: (options.now ?? new Date()).toISOString(),
    correlation_id: options.correlationId ?? ctx?.correlationId ?? randomUUID(),
    causation_id: options.causationId ?? ctx?.causationId ?? null,
    source: options.source,
    payload: parsed,
    metadata: { ...(ctx?.userId ? { user_id: ctx.userId } : {}), ...traceMetadata(), ...(options.metadata ?? {}) },
  };
}
