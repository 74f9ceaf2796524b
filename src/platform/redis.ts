import { createClient, createSentinel } from 'redis';
import type { Logger } from './logger.ts';
import { nodeRedisOptions, type RedisSentinels } from './redis-options.ts';

const SOCKET = {
  connectTimeout: 3_000,
  reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 6), 2_000),
};

const buildClient = (url: string) => createClient({ url, disableOfflineQueue: true, socket: SOCKET });

export type Redis = ReturnType<typeof buildClient>;

function build(url: string, sentinels: RedisSentinels | undefined): Redis {
  const choice = nodeRedisOptions(url, sentinels, SOCKET);
  if (choice.kind === 'client') return buildClient(url);
  // a RedisSentinel has the client's command surface (get/set/eval/…, connect/close/isOpen/on('error'));
  // the app codes against that surface, so it is typed as the client it stands in for
  return createSentinel(choice.options) as unknown as Redis;
}

/**
 * node-redis client for app code. Commands fail fast while disconnected (no offline queue) so a Redis
 * outage turns into a fallback path or a clear error, never a request that hangs; it reconnects by itself.
 */
export function createRedis(url: string, logger: Logger, sentinels?: RedisSentinels): Redis {
  const client = build(url, sentinels);
  let lastLog = 0;
  client.on('error', (err: Error) => {
    const now = Date.now();
    if (now - lastLog > 5_000) {
      lastLog = now;
      logger.warn({ err: err.message }, 'redis connection problem');
    }
  });
  return client;
}

/** Connect without blocking start-up forever: readiness reports Redis until it answers. */
export async function connectRedis(client: Redis, logger: Logger, waitMs = 3_000): Promise<void> {
  const connecting = client.connect().then(
    () => undefined,
    (err: unknown) => logger.warn({ err }, 'redis connect failed; will keep retrying'),
  );
  await Promise.race([connecting, new Promise((r) => setTimeout(r, waitMs).unref())]);
}

export async function closeRedis(client: Redis): Promise<void> {
  if (client.isOpen) {
    try {
      await client.close();
    } catch {
      client.destroy();
    }
  }
}
