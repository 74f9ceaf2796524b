import type { ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import type { Logger } from '../logger.ts';
import type { AmqpConnectionManager } from './broker.ts';

export interface ManagedChannelOptions {
  name: string;
  logger: Logger;
  /** run on every new underlying confirm channel (after every reconnect) */
  setup: (channel: ConfirmChannel) => Promise<void>;
}

/**
 * A confirm channel that survives both connection loss (amqp-connection-manager re-creates it and re-runs
 * `setup`) and channel-level errors. The latter matter because amqp-connection-manager only replaces a
 * channel on reconnect: a channel the broker closed while the connection stays up (a 404/406 from a
 * declaration, an ack of a stale delivery tag) would otherwise stay dead until the next connection loss.
 * Here such a wrapper is replaced, with back-off.
 */
export class ManagedChannel {
  private wrapper: ChannelWrapper;
  private raw: ConfirmChannel | undefined;
  private setUp = false;
  private closed = false;
  private healDelayMs = 1_000;
  private healTimer: NodeJS.Timeout | undefined;

  private readonly connection: AmqpConnectionManager;
  private readonly options: ManagedChannelOptions;

  constructor(connection: AmqpConnectionManager, options: ManagedChannelOptions) {
    this.connection = connection;
    this.options = options;
    this.wrapper = this.create();
  }

  get current(): ChannelWrapper {
    return this.wrapper;
  }

  /** the underlying channel, while there is one */
  get channel(): ConfirmChannel | undefined {
    return this.raw;
  }

  private create(): ChannelWrapper {
    const wrapper = this.connection.createChannel({
      name: this.options.name,
      confirm: true,
      setup: async (channel: ConfirmChannel) => {
        this.raw = channel;
        this.setUp = false;
        channel.on('close', () => this.onChannelClose(channel));
        channel.on('error', (err: Error) => this.options.logger.warn({ channel: this.options.name, err: err.message }, 'amqp channel error'));
        await this.options.setup(channel);
        this.setUp = true;
        this.healDelayMs = 1_000;
      },
    });
    wrapper.on('error', (err: Error) => this.options.logger.error({ channel: this.options.name, err: err.message }, 'amqp channel setup failed'));
    return wrapper;
  }

  private onChannelClose(channel: ConfirmChannel): void {
    if (this.raw === channel) this.raw = undefined;
    if (this.closed || this.healTimer) return;
    this.healTimer = setTimeout(() => {
      this.healTimer = undefined;
      // a connection loss is amqp-connection-manager's to repair; act only when the connection is up
      // and no new channel came since
      if (this.closed || this.raw || !this.connection.isConnected()) return;
      this.options.logger.warn({ channel: this.options.name }, 'amqp channel closed by the broker; opening a new one');
      const old = this.wrapper;
      this.wrapper = this.create();
      void old.close().catch(() => undefined);
    }, this.healDelayMs);
    this.healDelayMs = Math.min(this.healDelayMs * 2, 30_000);
  }

  /** Resolve true once the channel is open and set up, false after the timeout. */
  async waitUntilSetUp(timeoutMs: number): Promise<boolean> {
    if (this.raw && this.setUp) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const connected = this.wrapper.waitForConnect().then(() => this.setUp);
    try {
      return await Promise.race([connected, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.healTimer) clearTimeout(this.healTimer);
    await this.wrapper.close().catch(() => undefined);
  }
}
