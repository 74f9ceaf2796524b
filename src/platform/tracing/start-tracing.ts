import { setTracingGate, tracingEnabled, tracingMayBeEnabled } from './trace-context.ts';
import { tracingSettings } from './tracing-config.ts';

export { setTracingGate };

export interface Tracing {
  /** false when no exporter is configured: nothing of the SDK was loaded */
  configured: boolean;
  serviceName: string | undefined;
  /** export what is buffered and stop (after the app stopped, so its last spans are sent) */
  shutdown(): Promise<void>;
}

/** how often the instrumentations follow the flag being off for everyone (or not) */
const FOLLOW_FLAG_MS = 1_000;

const HEALTH_OR_METRICS = /^\/(health|metrics)(\/|$|\?)/;

/**
 * Register the OpenTelemetry SDK when an exporter is configured (see tracing-config.ts). Call it before
 * anything that loads pg, ioredis or http: the instrumentations patch those modules as they are loaded,
 * and the SDK's modules are imported here only when tracing is configured — off, it costs nothing.
 * The tracer provider's sampler asks the `enable_tracing` flag (setTracingGate, from the composition
 * root), so spans are recorded only while the flag is on.
 */
export async function startTracing(env: NodeJS.ProcessEnv = process.env): Promise<Tracing> {
  const settings = tracingSettings(env);
  if (!settings) return { configured: false, serviceName: undefined, shutdown: async () => {} };
  const [{ NodeTracerProvider, BatchSpanProcessor, ConsoleSpanExporter }, { OTLPTraceExporter }, resources, { registerInstrumentations }, http, undici, pg, ioredis, sampler] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/instrumentation'),
      import('@opentelemetry/instrumentation-http'),
      import('@opentelemetry/instrumentation-undici'),
      import('@opentelemetry/instrumentation-pg'),
      import('@opentelemetry/instrumentation-ioredis'),
      import('./flag-sampler.ts'),
    ]);
  const resource = resources
    .defaultResource()
    .merge(resources.resourceFromAttributes({ 'service.name': settings.serviceName }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the default name
    .merge(resources.detectResources({ detectors: [resources.envDetector] }));
  const exporter = settings.exporter === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter();
  const provider = new NodeTracerProvider({
    resource,
    sampler: new sampler.FlagGatedSampler(tracingEnabled, sampler.samplerFromSettings(settings.sampler, settings.ratio)),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // W3C trace context (and baggage) propagation; AsyncLocalStorage context
  provider.register();
  const instrumentations = [
    new http.HttpInstrumentation({
      // probes and scrapes are not requests anyone wants to trace
      ignoreIncomingRequestHook: (req) => HEALTH_OR_METRICS.test(req.url ?? ''),
    }),
    new undici.UndiciInstrumentation(),
    // a span per pooled checkout would double the spans of a request and say nothing a query span does not
    new pg.PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    new ioredis.IORedisInstrumentation({ requireParentSpan: true }),
  ];
  registerInstrumentations({ tracerProvider: provider, instrumentations });
  // Patched, every request, query and Redis command pays for a non-recording span and its context even
  // while the sampler drops it (bench/tracing.ts: ~0.2 ms of CPU a request). While the flag is off for
  // everyone the patches are taken out, and put back when it may be on for someone: the configured but
  // switched-off process then runs its modules unpatched. The sampler still decides per request.
  let patched = true;
  const follow = setInterval(() => {
    const wanted = tracingMayBeEnabled();
    if (wanted === patched) return;
    patched = wanted;
    for (const i of instrumentations) wanted ? i.enable() : i.disable();
  }, FOLLOW_FLAG_MS);
  follow.unref();
  return {
    configured: true,
    serviceName: String(resource.attributes['service.name']),
    shutdown: async () => {
      clearInterval(follow);
      await provider.shutdown().catch(() => undefined);
    },
  };
}
