import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0', '']).transform((v) => v === 'true' || v === '1');

/**
 * The OTEL_* variables boxoffice reads itself (the SDK reads the rest: OTEL_EXPORTER_OTLP_HEADERS,
 * _TIMEOUT, OTEL_RESOURCE_ATTRIBUTES, …). They are read before the app's config, because the SDK has
 * to be in place before pg, ioredis and http are loaded.
 */
const tracingEnvSchema = z.object({
  OTEL_SDK_DISABLED: bool.default(false),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_TRACES_SAMPLER: z
    .enum(['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'])
    .default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  MODULES: z.string().optional(),
});

export type TracingSampler = z.infer<typeof tracingEnvSchema>['OTEL_TRACES_SAMPLER'];

export interface TracingSettings {
  exporter: 'otlp' | 'console';
  serviceName: string;
  sampler: TracingSampler;
  ratio: number;
}

/**
 * Tracing is set up only when an exporter is configured: OTEL_TRACES_EXPORTER=otlp|console, or an OTLP
 * endpoint with no OTEL_TRACES_EXPORTER. Otherwise (the default) nothing of the SDK is even loaded.
 * Whether a request is then traced is the `enable_tracing` flag's call, per request.
 */
export function tracingSettings(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  const parsed = tracingEnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`tracing configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const e = parsed.data;
  if (e.OTEL_SDK_DISABLED || e.OTEL_TRACES_EXPORTER === 'none') return undefined;
  const exporter = e.OTEL_TRACES_EXPORTER ?? (e.OTEL_EXPORTER_OTLP_ENDPOINT || e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ? 'otlp' : undefined);
  if (!exporter) return undefined;
  return { exporter, serviceName: e.OTEL_SERVICE_NAME ?? defaultServiceName(e.MODULES), sampler: e.OTEL_TRACES_SAMPLER, ratio: e.OTEL_TRACES_SAMPLER_ARG ?? 1 };
}

/** `boxoffice` for the whole monolith, `boxoffice-payment-notification` for a process hosting some modules. */
export function defaultServiceName(modules: string | undefined): string {
  const list = (modules ?? '').split(',').map((s) => s.trim()).filter((s) => s && s !== 'all');
  return list.length === 0 ? 'boxoffice' : `boxoffice-${list.join('-')}`;
}
