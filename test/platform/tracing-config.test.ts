import test from 'ava';
import { ROOT_CONTEXT, SpanKind, trace, TraceFlags } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace-base';
import { FlagGatedSampler, samplerFromSettings } from '../../src/platform/tracing/flag-sampler.ts';
import { tracingSettings } from '../../src/platform/tracing/tracing-config.ts';

/** When the SDK is loaded at all, under which name, and what the flag-gated sampler lets through. */
test('tracing is configured only by an exporter; the service name follows MODULES', (t) => {
  t.is(tracingSettings({}), undefined, 'off by default');
  t.is(tracingSettings({ MODULES: 'booking', OTEL_SERVICE_NAME: 'x' }), undefined);
  t.like(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), { exporter: 'otlp', serviceName: 'boxoffice', sampler: 'parentbased_always_on' });
  t.like(tracingSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces', MODULES: 'payment, notification' }), { serviceName: 'boxoffice-payment-notification' });
  t.like(tracingSettings({ OTEL_TRACES_EXPORTER: 'console', MODULES: 'all', OTEL_SERVICE_NAME: 'bo-eu' }), { exporter: 'console', serviceName: 'bo-eu' });
  t.is(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
  t.is(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }), undefined);
  t.throws(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }), { message: /OTEL_EXPORTER_OTLP_ENDPOINT/ });
  t.throws(() => tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_SAMPLER: 'sometimes' }), { message: /OTEL_TRACES_SAMPLER/ });
});

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const remote = (sampled: boolean) => trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: 'b7ad6b7169203331', traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, isRemote: true });
const local = (sampled: boolean) => trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: 'b7ad6b7169203331', traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE });

test('the flag drops every span while off — a sampled caller included — and asks once per request', (t) => {
  let flag = false;
  let asked = 0;
  const sampler = new FlagGatedSampler(() => (asked++, flag), samplerFromSettings('parentbased_always_on', 1));
  const decide = (ctx: typeof ROOT_CONTEXT, kind: SpanKind) => sampler.shouldSample(ctx, TRACE, 'x', kind, {}, []).decision;
  t.is(decide(ROOT_CONTEXT, SpanKind.SERVER), SamplingDecision.NOT_RECORD);
  t.is(decide(remote(true), SpanKind.SERVER), SamplingDecision.NOT_RECORD, 'a caller\'s sampled traceparent does not override the flag');
  t.is(decide(remote(true), SpanKind.CONSUMER), SamplingDecision.NOT_RECORD);
  flag = true;
  t.is(decide(ROOT_CONTEXT, SpanKind.SERVER), SamplingDecision.RECORD_AND_SAMPLED);
  t.is(decide(remote(true), SpanKind.CONSUMER), SamplingDecision.RECORD_AND_SAMPLED);
  t.is(decide(local(true), SpanKind.CLIENT), SamplingDecision.RECORD_AND_SAMPLED, 'a query inside a traced request');
  asked = 0;
  t.is(decide(ROOT_CONTEXT, SpanKind.CLIENT), SamplingDecision.NOT_RECORD, 'a query outside any request or message starts no trace');
  t.is(decide(ROOT_CONTEXT, SpanKind.INTERNAL), SamplingDecision.NOT_RECORD);
  t.is(decide(local(false), SpanKind.CLIENT), SamplingDecision.NOT_RECORD, 'a child of a dropped request stays dropped');
  t.is(asked, 0, 'none of those asked the flag');
  t.is(new FlagGatedSampler(() => true, samplerFromSettings('traceidratio', 0)).shouldSample(ROOT_CONTEXT, TRACE, 'x', SpanKind.SERVER, {}, []).decision, SamplingDecision.NOT_RECORD, 'OTEL_TRACES_SAMPLER applies behind the flag');
});
