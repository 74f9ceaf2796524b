import { ConfigError, loadConfig, type Config } from '../platform/config.ts';
import { createLogger, type Logger } from '../platform/logger.ts';

/** A user-facing CLI failure: printed as one line, exit code 1 (2 for bad usage). */
export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

export interface CliContext {
  config: Config;
  logger: Logger;
  out(line: string): void;
}

/** Config from the environment, logs to stderr (stdout is for the command's own output). */
export function cliContext(): CliContext {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  const logger = createLogger(process.env['LOG_LEVEL'] ? config.LOG_LEVEL : 'warn');
  return { config, logger, out: (line) => process.stdout.write(`${line}\n`) };
}

/** Parse a positive integer option, naming the option on failure. */
export function positiveInt(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new CliError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`, 2);
    }
    return n;
  };
}
