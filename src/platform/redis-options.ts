import type { RedisClientOptions, RedisSentinelOptions } from 'redis';

/** REDIS_SENTINELS and REDIS_SENTINEL_NAME: where to ask which node is the master. */
export interface RedisSentinels {
  nodes: { host: string; port: number }[];
  /** the master group's name (REDIS_SENTINEL_NAME) */
  name: string;
}

/** `host:port,host:port` → nodes; unset → no Sentinel (the URL's host is the server). */
export function parseSentinels(list: string | undefined, name: string): RedisSentinels | undefined {
  if (!list) return undefined;
  const nodes = list.split(',').map((entry) => {
    const at = entry.lastIndexOf(':');
    return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) };
  });
  return { nodes, name };
}

/** What a redis:// URL says besides the host: who we are, which database, whether TLS. */
function urlParts(url: string) {
  const u = new URL(url);
  const database = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(database !== undefined && Number.isInteger(database) ? { database } : {}),
    tls: u.protocol === 'rediss:',
  };
}

/**
 * node-redis: a plain client on the URL, or, with sentinels, `createSentinel` options — the URL then
 * gives only credentials, database and TLS for the data nodes, the sentinels say which node is master.
 */
export function nodeRedisOptions(
  url: string,
  sentinels: RedisSentinels | undefined,
  socket: { connectTimeout: number; reconnectStrategy: (retries: number) => number },
): { kind: 'client'; options: RedisClientOptions } | { kind: 'sentinel'; options: RedisSentinelOptions } {
  if (!sentinels) return { kind: 'client', options: { url, disableOfflineQueue: true, socket } };
  const { tls, database, ...auth } = urlParts(url);
  return {
    kind: 'sentinel',
    options: {
      name: sentinels.name,
      sentinelRootNodes: sentinels.nodes,
      nodeClientOptions: {
        ...auth,
        ...(database !== undefined ? { database } : {}),
        disableOfflineQueue: true,
        socket: { ...socket, ...(tls ? { tls: true as const } : {}) },
      },
    },
  };
}

/** ioredis (BullMQ's connections): the URL, or with sentinels ioredis's own `sentinels` + `name`. */
export function ioredisOptions<E extends object>(url: string, sentinels: RedisSentinels | undefined, extra: E): E & Record<string, unknown> {
  if (!sentinels) return { url, ...extra };
  const { tls, database, ...auth } = urlParts(url);
  return {
    sentinels: sentinels.nodes,
    name: sentinels.name,
    ...auth,
    ...(database !== undefined ? { db: database } : {}),
    ...(tls ? { tls: {} } : {}),
    ...extra,
  };
}
