import { Writable } from 'node:stream';
import { pino } from 'pino';
import { currentContext } from '../../src/platform/context.ts';
import type { Logger } from '../../src/platform/logger.ts';

export interface CapturedLine {
  level: string;
  msg?: string;
  [key: string]: unknown;
}

/** A JSON logger whose lines a test can read (as the app writes them: level as a label). */
export function captureLogs(level = 'info'): { logger: Logger; lines: CapturedLine[]; atLeast(level: 'warn' | 'error'): CapturedLine[] } {
  const lines: CapturedLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as CapturedLine);
      done();
    },
  });
  // the app's correlation mixin too (src/platform/logger.ts), so a test can follow one request's lines
  const mixin = () => {
    const ctx = currentContext();
    return ctx ? { correlation_id: ctx.correlationId } : {};
  };
  const logger = pino({ level, formatters: { level: (label) => ({ level: label }) }, mixin }, sink);
  const rank = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as Record<string, number>;
  return { logger, lines, atLeast: (min) => lines.filter((l) => (rank[l.level] ?? 0) >= rank[min]!) };
}
