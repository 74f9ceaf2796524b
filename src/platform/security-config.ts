import { z } from 'zod';

/**
 * The variables of the abuse controls and of who may see internals (issue 8; ADR 0043–0045): login and
 * registration throttles, the internal API's secret, where /metrics is served. Part of the one validated
 * environment (`envSchema` in config.ts).
 */
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const securityEnv = {
  // failed logins (ADR 0043): the pair and the address are refused; the account alone only slows down
  LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS: int(1, 1000).default(5),
  LOGIN_MAX_FAILURES_PER_IP: int(1, 100_000).default(50),
  /** failures on one account, from any address, before each further attempt waits a doubling delay */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: int(1, 10_000).default(10),
  LOGIN_ACCOUNT_MAX_DELAY_SECONDS: int(1, 86_400).default(300),
  /** how long an address that logged in to an account is exempt from that account's delay; 0: never */
  LOGIN_KNOWN_ADDRESS_DAYS: int(0, 365).default(30),
  LOGIN_THROTTLE_WINDOW_SECONDS: int(1, 86_400).default(900),
  /** registration attempts per client address per window; 0 turns the throttle off */
  REGISTER_MAX_PER_IP: int(0, 1_000_000).default(10),
  REGISTER_WINDOW_SECONDS: int(1, 86_400).default(3_600),
  /** shared by every process of a deployment: signs the service tokens of the internal API (/internal/…) */
  INTERNAL_API_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** serve /metrics on this port only (not on PORT); 0 picks a free port (tests) */
  METRICS_PORT: int(0, 65535).optional(),
  /** scrapes of /metrics must send Authorization: Bearer <METRICS_TOKEN> */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').regex(/^\S+$/, 'must not contain spaces').optional(),
};

/** Where production serves /metrics when neither METRICS_PORT nor METRICS_TOKEN is set. */
export const PRODUCTION_METRICS_PORT = 9464;

const securitySchema = z.object(securityEnv);
type SecurityEnv = z.infer<typeof securitySchema> & { NODE_ENV: string; PORT: number };

/** Rules across variables; may settle METRICS_PORT (production). Returns the problems, by variable. */
export function checkSecurityEnv(env: SecurityEnv): { variable: string; message: string }[] {
  // production never answers /metrics to anyone on the public port: without a token it moves to its own
  // port (the OpenTelemetry Prometheus exporter's), which only Prometheus is let reach
  if (env.NODE_ENV === 'production' && env.METRICS_PORT === undefined && env.METRICS_TOKEN === undefined) {
    env.METRICS_PORT = PRODUCTION_METRICS_PORT;
  }
  if (env.METRICS_PORT !== undefined && env.METRICS_PORT !== 0 && env.METRICS_PORT === env.PORT) {
    return [{ variable: 'METRICS_PORT', message: 'must differ from PORT' }];
  }
  // one stranger's address spends its pair budget before the account-wide delay could start: slowing the
  // owner down takes many addresses (ADR 0043)
  if (env.LOGIN_MAX_FAILURES_PER_ACCOUNT <= env.LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS) {
    return [{ variable: 'LOGIN_MAX_FAILURES_PER_ACCOUNT', message: 'must be greater than LOGIN_MAX_FAILURES_PER_ACCOUNT_ADDRESS, or one address could slow an account down' }];
  }
  return [];
}
