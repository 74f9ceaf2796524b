import { SpanKind, trace, TraceFlags, type Attributes, type Context, type Link } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace-base';
import type { TracingSampler } from './tracing-config.ts';

/** OTEL_TRACES_SAMPLER as the SDK documents it (the SDK's own env reading is bypassed by a custom sampler). */
export function samplerFromSettings(name: TracingSampler, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

const DROP: SamplingResult = { decision: SamplingDecision.NOT_RECORD };

/**
 * The `enable_tracing` flag in front of the configured sampler. Flag off: every span is dropped before
 * anything is recorded (a non-recording span costs an object), whatever a caller's traceparent says —
 * turning the flag off is the rollback. Flag on: only a request (SERVER) or a message (CONSUMER,
 * PRODUCER) may start a trace; a query or Redis command outside one (relay polls, BullMQ's blocking
 * reads, Unleash's refresh) would otherwise each be a trace of one span.
 */
export class FlagGatedSampler implements Sampler {
  private readonly enabled: () => boolean;
  private readonly inner: Sampler;

  constructor(enabled: () => boolean, inner: Sampler) {
    this.enabled = enabled;
    this.inner = inner;
  }

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    if (!parent && kind !== SpanKind.SERVER && kind !== SpanKind.CONSUMER && kind !== SpanKind.PRODUCER) return DROP;
    // a child of a span this process dropped is dropped too, without asking the flag again (one flag
    // evaluation per request or message, not one per query)
    if (parent && !parent.isRemote && !(parent.traceFlags & TraceFlags.SAMPLED)) return DROP;
    if (!this.enabled()) return DROP;
    return this.inner.shouldSample(ctx, traceId, name, kind, attributes, links);
  }

  toString(): string {
    return `FlagGatedSampler{${this.inner.toString()}}`;
  }
}
