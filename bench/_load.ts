/**
 * HTTP load from this process (autocannon) against a service in a process of its own (bench/_service.ts),
 * shared by bench/http-load.ts and bench/profiles.ts. Settings from the environment:
 * BENCH_CONNECTIONS (50), BENCH_SECONDS (8), BENCH_SHOWTIMES (4), BENCH_SEATS (2000).
 */
import autocannon from 'autocannon';
import type { Service } from './_service.ts';

export const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
export const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
export const SHOWTIMES = Number(process.env['BENCH_SHOWTIMES'] ?? 4);
export const SEATS = Number(process.env['BENCH_SEATS'] ?? 2000);
export const PER_ROW = 100;

export interface Line {
  label: string;
  ok: number;
  other: number;
  rate: number;
  p50: number;
  p99: number;
  /** the service's CPU time per successful request, ms: what a request costs the app, whatever else the machine runs */
  cpu: number;
}

/** autocannon for `seconds`, or until `next` runs out of requests; only `expected` statuses count */
export async function load(label: string, service: Service, seconds: number, next: () => autocannon.Request | undefined, expected: number): Promise<Line> {
  let instance: autocannon.Instance | undefined;
  const statuses = new Map<number, number>();
  const started = performance.now();
  let doneAt: number | undefined;
  const cpuBefore = service.cpuMs();
  const url = service.url;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon({
      url, connections: CONNECTIONS, duration: seconds,
      requests: [{
        setupRequest: (req) => {
          const r = next();
          if (!r) {
            doneAt ??= performance.now();
            setImmediate(() => (instance as unknown as { stop(): void }).stop());
            return { ...req, method: 'GET', path: '/health' };
          }
          return { ...req, ...r };
        },
        onResponse: (status) => void (doneAt === undefined && statuses.set(status, (statuses.get(status) ?? 0) + 1)),
      }],
    }, (err, r) => (err ? reject(err) : resolve(r)));
  });
  const elapsed = Math.min(seconds, ((doneAt ?? performance.now()) - started) / 1000);
  const ok = statuses.get(expected) ?? 0;
  const other = [...statuses].filter(([s]) => s !== expected).reduce((n, [, c]) => n + c, 0);
  return { label, ok, other, rate: ok / elapsed, p50: result.latency.p50, p99: result.latency.p99, cpu: (service.cpuMs() - cpuBefore) / ok };
}

export const get = (path: string, token?: string) => () => ({ method: 'GET' as const, path, ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}) });
/** GET path as each user in turn (every client sends its own token) */
export const asUsers = (path: string, users: { token: string }[]) => {
  let i = 0;
  return () => ({ method: 'GET' as const, path, headers: { authorization: `Bearer ${users[i++ % users.length]!.token}` } });
};

/** every booking one seat of its own: seat i of the catalog goes to showtime i mod n, by user i mod users */
export function bookings(users: { token: string }[], catalog: { showtimeIds: string[]; seatIds: string[] }) {
  let i = 0;
  const total = catalog.showtimeIds.length * catalog.seatIds.length;
  return (): autocannon.Request | undefined => {
    if (i >= total) return undefined;
    const n = i++;
    const showtime = catalog.showtimeIds[n % catalog.showtimeIds.length]!;
    const seat = catalog.seatIds[Math.floor(n / catalog.showtimeIds.length)]!;
    return {
      method: 'POST', path: '/api/v1/bookings',
      headers: { authorization: `Bearer ${users[n % users.length]!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ showtime_id: showtime, seat_ids: [seat] }),
    };
  };
}

