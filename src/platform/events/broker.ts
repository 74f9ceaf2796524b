import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';
import type { Logger } from '../logger.ts';

export type { AmqpConnectionManager };

export interface BrokerOptions {
  url: string;
  logger: Logger;
  reconnectMs: number;
  heartbeatSeconds: number;
}

/**
 * One AMQP connection per process (amqp-connection-manager reconnects by itself). Channels are made by
 * the relay and the consumers; this owns the connection, its state for readiness, and its logging.
 * Nothing connects before `connect()` (the broker worker's start), so composing an app opens no socket.
 */
export class Broker {
  private manager: AmqpConnectionManager | undefined;
  private lastError: string | undefined;
  private lastErrorLog = 0;
  private readonly options: BrokerOptions;
  private readonly logger: Logger;
  private readonly redactedUrl: string;

  constructor(options: BrokerOptions) {
    this.options = options;
    this.logger = options.logger;
    this.redactedUrl = redact(options.url);
  }

  /** Start connecting (idempotent); amqp-connection-manager keeps reconnecting from then on. */
  connect(): AmqpConnectionManager {
    if (this.manager) return this.manager;
    const manager = amqp.connect([this.options.url], {
      heartbeatIntervalInSeconds: this.options.heartbeatSeconds,
      reconnectTimeInSeconds: this.options.reconnectMs / 1000,
      // TCP_NODELAY: without it a publish's small frames wait on Nagle against the broker's delayed ACK —
      // 40 ms added to every hop of an idle saga (bench/saga-latency)
      connectionOptions: { clientProperties: { connection_name: 'boxoffice' }, noDelay: true },
    });
    this.manager = manager;
    manager.on('connect', () => {
      this.lastError = undefined;
      this.logger.info({ broker: this.redactedUrl, version: this.serverVersion() }, 'rabbitmq connected');
    });
    manager.on('disconnect', ({ err }) => {
      this.lastError = err?.message ?? 'disconnected';
      this.logger.warn({ broker: this.redactedUrl, err: err?.message }, 'rabbitmq disconnected; reconnecting');
    });
    manager.on('connectFailed', ({ err }) => {
      this.lastError = err?.message ?? 'connect failed';
      const now = Date.now();
      if (now - this.lastErrorLog > 30_000) {
        this.lastErrorLog = now;
        this.logger.warn({ broker: this.redactedUrl, err: this.lastError }, 'rabbitmq unreachable; retrying');
      }
    });
    manager.on('blocked', ({ reason }) => this.logger.warn({ reason }, 'rabbitmq blocked the connection'));
    manager.on('unblocked', () => this.logger.info('rabbitmq unblocked the connection'));
    return manager;
  }

  /** The connection manager (connecting on first use). */
  get connection(): AmqpConnectionManager {
    return this.connect();
  }

  isConnected(): boolean {
    return this.manager?.isConnected() ?? false;
  }

  serverVersion(): string | undefined {
    const version = this.manager?.connection?.connection.serverProperties.version;
    return typeof version === 'string' ? version : undefined;
  }

  /** Resolve true once connected, false after the timeout (the caller goes on either way). */
  waitForConnection(timeoutMs: number): Promise<boolean> {
    const manager = this.connect();
    if (manager.isConnected()) return Promise.resolve(true);
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onConnect = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        manager.removeListener('connect', onConnect);
        resolve(false);
      }, timeoutMs);
      manager.once('connect', onConnect);
    });
  }

  /** The readiness check: fails, naming the broker's last error, while there is no connection. */
  async check(): Promise<void> {
    if (!this.manager) throw new Error('rabbitmq not connected: not started');
    if (!this.isConnected()) throw new Error(`rabbitmq not connected: ${this.lastError ?? 'connecting'}`);
  }

  async close(): Promise<void> {
    const manager = this.manager;
    this.manager = undefined;
    await manager?.close();
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'amqp://?';
  }
}
