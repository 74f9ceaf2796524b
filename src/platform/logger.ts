import { pino, type Logger, type LevelWithSilent } from 'pino';
import { currentContext } from './context.ts';
import { activeTraceId } from './tracing/trace-context.ts';

export type { Logger };

/** JSON logs; every line written inside a request or message carries its correlation id, and its trace id while traced. */
export function createLogger(level: LevelWithSilent, bindings: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'boxoffice', pid: process.pid, ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: [
        'password',
        '*.password',
        'refresh_token',
        '*.refresh_token',
        'access_token',
        '*.access_token',
        'req.headers.authorization',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
    mixin() {
      const ctx = currentContext();
      const traceId = activeTraceId();
      return { ...(ctx ? { correlation_id: ctx.correlationId } : {}), ...(traceId ? { trace_id: traceId } : {}) };
    },
  });
}
