import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Context, type Span } from '@opentelemetry/api';

/**
 * The tracing the platform does by hand, on @opentelemetry/api only: without a registered SDK every call
 * here is the API's no-op. Events cross processes through the outbox, published later than the request
 * that wrote them, so the trace travels in the envelope's metadata (W3C `traceparent`), not in AMQP
 * headers: the relay's publish and the consumer's handling both continue the writing request's trace.
 */
const tracer = trace.getTracer('boxoffice');

export interface TracingGate {
  /** whether this request or message may be recorded (the sampler asks, once per request or message) */
  enabled(): boolean;
  /** false while tracing is off for everyone: the instrumentations are then unpatched altogether */
  mayBeEnabled(): boolean;
}

let gate: TracingGate = { enabled: () => false, mayBeEnabled: () => true };

export function tracingEnabled(): boolean {
  return gate.enabled();
}

export function tracingMayBeEnabled(): boolean {
  return gate.mayBeEnabled();
}

/** The composition root hands the `enable_tracing` flag here; without a configured SDK nobody asks. */
export function setTracingGate(next: TracingGate): void {
  gate = next;
}

/** The active span's trace id, only when it is being recorded (log lines carry it). */
export function activeTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  if (!span) return undefined;
  const sc = span.spanContext();
  return sc.traceFlags & TraceFlags.SAMPLED ? sc.traceId : undefined;
}

/** `traceparent` (and `tracestate`) of the active span for an event's metadata; nothing when not traced. */
export function traceMetadata(): Record<string, string> {
  if (!activeTraceId()) return {};
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const out: Record<string, string> = {};
  if (carrier['traceparent']) out['traceparent'] = carrier['traceparent'];
  if (carrier['tracestate']) out['tracestate'] = carrier['tracestate'];
  return out;
}

function contextOf(metadata: Record<string, unknown>): Context {
  const traceparent = metadata['traceparent'];
  if (typeof traceparent !== 'string') return ROOT_CONTEXT;
  const tracestate = metadata['tracestate'];
  return propagation.extract(ROOT_CONTEXT, { traceparent, ...(typeof tracestate === 'string' ? { tracestate } : {}) });
}

interface TracedEvent {
  event_id: string;
  event_type: string;
  metadata: Record<string, unknown>;
}

function inSpan<T>(span: Span, parent: Context, fn: () => Promise<T>): Promise<T> {
  return context.with(trace.setSpan(parent, span), fn).then(
    (value) => {
      span.end();
      return value;
    },
    (err: unknown) => {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      span.end();
      throw err;
    },
  );
}

function messagingAttributes(event: TracedEvent, destination: string, operation: 'send' | 'process') {
  return {
    'messaging.system': 'rabbitmq',
    'messaging.operation.type': operation,
    'messaging.destination.name': destination,
    'messaging.message.id': event.event_id,
    'messaging.rabbitmq.destination.routing_key': event.event_type,
  };
}

/** The relay's publish of one event, as a child of the request that wrote it. */
export function withPublishSpan<T>(event: TracedEvent, exchange: string, fn: () => Promise<T>): Promise<T> {
  const parent = contextOf(event.metadata);
  const span = tracer.startSpan(`publish ${event.event_type}`, { kind: SpanKind.PRODUCER, attributes: messagingAttributes(event, exchange, 'send') }, parent);
  return inSpan(span, parent, fn);
}

/** A consumer's handling of one event, continuing the trace the event carries (its queries are its children). */
export function withConsumerSpan<T>(event: TracedEvent, queue: string, fn: () => Promise<T>): Promise<T> {
  const parent = contextOf(event.metadata);
  const span = tracer.startSpan(`process ${event.event_type}`, { kind: SpanKind.CONSUMER, attributes: messagingAttributes(event, queue, 'process') }, parent);
  return inSpan(span, parent, fn);
}
