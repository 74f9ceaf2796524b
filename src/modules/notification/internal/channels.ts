import nodemailer from 'nodemailer';
import type { Logger } from '../../../platform/logger.ts';
import { DeliveryError } from './errors.ts';

export interface OutgoingMessage {
  notificationId: string;
  to: string;
  subject: string;
  text: string;
  /** stable per notification, so a re-send after an unknown outcome can be recognised as the same mail */
  messageId: string;
}

export interface SendResult {
  messageId: string;
  response?: string;
}

/** A way to deliver a rendered notification. Throws DeliveryError (temporary or permanent). */
export interface Channel {
  readonly name: 'email' | 'log';
  send(message: OutgoingMessage): Promise<SendResult>;
  close(): Promise<void>;
}

interface SmtpishError {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
}

// errors nodemailer raises before talking to a server, for reasons a retry cannot fix
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'ECONFIG']);

/**
 * SMTP semantics (RFC 5321 §4.2.1): 4yz is a transient negative reply (retry later), 5yz permanent. No
 * reply code means the conversation broke (connection refused, timeout, TLS): transient.
 */
export function classifySmtpError(err: unknown): DeliveryError {
  const e = (err ?? {}) as SmtpishError;
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const message = e.message ?? String(err);
  if (code !== undefined) {
    return new DeliveryError(message, { permanent: code >= 500, responseCode: code, response: e.response, cause: err });
  }
  return new DeliveryError(message, { permanent: PERMANENT_CODES.has(e.code ?? ''), response: e.response, cause: err });
}

/** NOTIFICATION_CHANNEL, defaulting to email when an SMTP server is configured and to the log otherwise. */
export function channelFor(config: { NOTIFICATION_CHANNEL?: 'email' | 'log' | undefined; SMTP_URL?: string | undefined }): 'email' | 'log' {
  return config.NOTIFICATION_CHANNEL ?? (config.SMTP_URL ? 'email' : 'log');
}

/** The domain of a From address (`Boxoffice <no-reply@example.com>` → example.com), for Message-IDs. */
export function mailDomain(from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1];
  return domain && /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(domain) ? domain.toLowerCase() : 'boxoffice.local';
}

export interface EmailChannelOptions {
  smtpUrl: string;
  from: string;
  timeoutMs: number;
}

/** Email over SMTP with nodemailer (a fresh connection per message unless the URL asks for ?pool=true). */
export function createEmailChannel(options: EmailChannelOptions): Channel {
  // settings in the URL (e.g. ?pool=true, tls options) win over these defaults
  const transport = nodemailer.createTransport(
    {
      url: options.smtpUrl,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      dnsTimeout: options.timeoutMs,
    },
    { from: options.from },
  );
  return {
    name: 'email',
    async send(m) {
      try {
        const info = await transport.sendMail({
          to: m.to,
          subject: m.subject,
          text: m.text,
          messageId: m.messageId,
          headers: { 'X-Boxoffice-Notification-Id': m.notificationId },
        });
        // one recipient: accepted by RCPT or the whole send throws; a server may still list it as rejected
        if (info.rejected.length > 0 && info.accepted.length === 0) {
          throw Object.assign(new Error(`recipient rejected: ${info.response}`), { responseCode: 550, response: info.response });
        }
        return { messageId: info.messageId || m.messageId, response: info.response };
      } catch (err) {
        throw err instanceof DeliveryError ? err : classifySmtpError(err);
      }
    },
    async close() {
      transport.close();
    },
  };
}

/** Development: the message goes to the log instead of a mail server, and counts as delivered. */
export function createLogChannel(logger: Logger): Channel {
  return {
    name: 'log',
    async send(m) {
      logger.info({ notificationId: m.notificationId, to: m.to, subject: m.subject, text: m.text }, 'notification (log channel)');
      return { messageId: m.messageId, response: 'logged' };
    },
    async close() {},
  };
}
