import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';
import { z } from 'zod';
import type { Knex } from '../../../src/platform/db.ts';
import { buildEnvelope, defineEvent, type Envelope } from '../../../src/platform/events/envelope.ts';
import type { NotificationModule } from '../../../src/modules/notification/index.ts';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  headers: Record<string, string>;
  /** the text body, transfer-decoded */
  text: string;
}

/** What the server answers: accept, or an SMTP error reply (e.g. 451 temporary, 550 permanent). */
export type Verdict = { ok: true } | { code: number; message: string };
export type Policy = (stage: 'rcpt' | 'data', count: number, session: SMTPServerSession, rcpt?: SMTPServerAddress) => Verdict;

export interface TestSmtp {
  url: string;
  mails: ReceivedMail[];
  /** SMTP transactions the server saw reach each stage (accepted or not) */
  seen: { rcpt: number; data: number };
  /** when each DATA stage was reached (ms since epoch), accepted or not */
  dataTimes: number[];
  policy: Policy;
  close(): Promise<void>;
}

const accept: Policy = () => ({ ok: true });

function smtpError(v: { code: number; message: string }): Error {
  return Object.assign(new Error(v.message), { responseCode: v.code });
}

/** quoted-printable and base64 bodies, as nodemailer writes them */
function decodeBody(headers: Record<string, string>, body: string): string {
  const cte = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  if (cte === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (cte === 'quoted-printable') {
    const soft = body.replace(/=\r?\n/g, '');
    const bytes: number[] = [];
    for (let i = 0; i < soft.length; i++) {
      if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
        bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(...Buffer.from(soft[i]!, 'utf8'));
    }
    return Buffer.from(bytes).toString('utf8');
  }
  return body;
}

export function parseMail(raw: string): { headers: Record<string, string>; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, text: decodeBody(headers, raw.slice(split + 4)).replace(/\r\n/g, '\n').replace(/\n$/, '') };
}

/** A real SMTP server on a random local port; `policy` decides each RCPT and DATA. */
export async function startSmtp(policy: Policy = accept): Promise<TestSmtp> {
  const state: TestSmtp = {
    url: '',
    mails: [],
    seen: { rcpt: 0, data: 0 },
    dataTimes: [],
    policy,
    close: async () => undefined,
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, session, callback) {
      const v = state.policy('rcpt', ++state.seen.rcpt, session, address);
      callback('ok' in v ? null : smtpError(v));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        state.dataTimes.push(Date.now());
        const v = state.policy('data', ++state.seen.data, session);
        if (!('ok' in v)) return callback(smtpError(v));
        const raw = Buffer.concat(chunks).toString('utf8');
        const { headers, text } = parseMail(raw);
        state.mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          headers,
          text,
        });
        callback(null, 'queued');
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  state.url = `smtp://127.0.0.1:${port}`;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

/** An envelope of any event type with any payload (producers' own schemas are used where they exist). */
export function envelopeOf(type: string, payload: Record<string, unknown>, options: { timestamp?: Date; metadata?: Record<string, unknown> } = {}): Envelope {
  const def = defineEvent(type, '1.0', z.record(z.string(), z.unknown()));
  return buildEnvelope(def, payload, {
    source: type.split('.')[0]!,
    ...(options.timestamp ? { now: options.timestamp } : {}),
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
}

/** Run the module's handler for `event` in one transaction on its pool, as the consumer would (minus the inbox). */
export async function handle(module: NotificationModule, db: Knex, event: Envelope): Promise<void> {
  const handler = module.consumer!.handlers[event.event_type];
  if (!handler) throw new Error(`no handler for ${event.event_type}`);
  await db.transaction((trx) => handler(event, trx));
}

export const newUserId = (): string => randomUUID();

export { waitFor } from '../../helpers/events.ts';

/** A booking.created payload as the booking module publishes it (seed 002 §8.4.3). */
export function bookingCreatedPayload(userId: string, userEmail: string, over: Record<string, unknown> = {}) {
  return {
    booking_id: randomUUID(),
    user_id: userId,
    user_email: userEmail,
    showtime_id: randomUUID(),
    showtime_snapshot: {
      movie_id: randomUUID(),
      movie_title: 'Dune: Part Three',
      theater_id: randomUUID(),
      theater_name: 'CGV Vincom',
      screen: 'Screen 5',
      city: 'Hanoi',
      start_time: '2026-01-24T19:00:00.000Z',
      end_time: '2026-01-24T22:00:00.000Z',
      base_price: '120000.00',
      currency: 'VND',
    },
    seats: [
      { seat_id: randomUUID(), row: 'A', number: 1, type: 'standard', price: '120000.00' },
      { seat_id: randomUUID(), row: 'A', number: 2, type: 'standard', price: '120000.00' },
    ],
    total_price: '240000.00',
    currency: 'VND',
    status: 'pending' as const,
    expires_at: '2026-01-23T10:45:00.000Z',
    created_at: '2026-01-23T10:30:00.000Z',
    ...over,
  };
}
