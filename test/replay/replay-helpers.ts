import { request } from 'node:http';

export interface Replayed {
  /** what the sweep sent, in words */
  name: string;
  method: string;
  path: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface ReplayRequest {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  /** a JSON value (sent as application/json) or raw bytes */
  json?: unknown;
  raw?: Buffer | string;
  token?: string;
  /** client address (the replay app trusts X-Forwarded-For) */
  from?: string;
}

/**
 * Sends requests as an attacker would — any method, any bytes, any header — and keeps every answer. Plain
 * node:http: fetch refuses methods such as TRACE and normalises what it sends.
 */
export class Replayer {
  readonly log: Replayed[] = [];
  private readonly base: string;

  constructor(base: string) {
    this.base = base;
  }

  send(r: ReplayRequest): Promise<Replayed> {
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    let body: Buffer | string | undefined = r.raw;
    if (r.json !== undefined) {
      body = JSON.stringify(r.json);
      headers['content-type'] ??= 'application/json';
    }
    if (r.token) headers['authorization'] = `Bearer ${r.token}`;
    if (r.from) headers['x-forwarded-for'] = r.from;
    return new Promise((resolve, reject) => {
      const req = request(`${this.base}${r.path}`, { method: r.method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const replayed = { name: r.name, method: r.method, path: r.path, status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
          this.log.push(replayed);
          resolve(replayed);
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async all(requests: ReplayRequest[]): Promise<Replayed[]> {
    const out: Replayed[] = [];
    for (const r of requests) out.push(await this.send(r));
    return out;
  }

  /** every answer of 500 or more, for the assertion message */
  serverErrors(): Replayed[] {
    return this.log.filter((r) => r.status >= 500);
  }
}

export const json = (r: Replayed): Record<string, any> => {
  try {
    return JSON.parse(r.body) as Record<string, any>;
  } catch {
    return {};
  }
};

/** Every route the app serves, path parameters still as `:id` (from the module routers, plus the platform's). */
export function routesOf(routers: { stack: { methods: string[]; path: string | RegExp }[] }[]): { method: string; path: string }[] {
  const routes = routers.flatMap((r) =>
    r.stack.flatMap((layer) => (typeof layer.path === 'string' ? layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: layer.path as string })) : [])),
  );
  return [
    ...routes,
    { method: 'GET', path: '/health' }, { method: 'GET', path: '/health/ready' }, { method: 'GET', path: '/metrics' },
    { method: 'GET', path: '/admin/login' }, { method: 'POST', path: '/admin/login' }, { method: 'POST', path: '/admin/logout' },
    { method: 'GET', path: '/admin/queues' }, { method: 'GET', path: '/admin/queues/api/queues' },
  ];
}
