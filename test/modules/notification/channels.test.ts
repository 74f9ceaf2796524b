import { Writable } from 'node:stream';
import test from 'ava';
import { pino } from 'pino';
import { channelFor, classifySmtpError, createEmailChannel, createLogChannel, mailDomain } from '../../../src/modules/notification/internal/channels.ts';
import { DeliveryError } from '../../../src/modules/notification/internal/errors.ts';
import { ConfigError, loadConfig } from '../../../src/platform/config.ts';

test('SMTP replies: 4yz and broken conversations are temporary, 5yz and unusable envelopes permanent', (t) => {
  t.like(classifySmtpError(Object.assign(new Error('greylisted'), { responseCode: 451, response: '451 4.7.1 later' })), { permanent: false, responseCode: 451, response: '451 4.7.1 later' });
  t.like(classifySmtpError(Object.assign(new Error('no such user'), { responseCode: 550, code: 'EENVELOPE' })), { permanent: true, responseCode: 550 });
  t.like(classifySmtpError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ESOCKET' })), { permanent: false, responseCode: undefined });
  t.like(classifySmtpError(Object.assign(new Error('No recipients defined'), { code: 'EENVELOPE' })), { permanent: true });
  t.true(classifySmtpError('weird') instanceof DeliveryError);
});

test('an SMTP server that is not there is a temporary failure', async (t) => {
  const channel = createEmailChannel({ smtpUrl: 'smtp://127.0.0.1:1', from: 'a@b.example', timeoutMs: 2_000 });
  const err = await t.throwsAsync(channel.send({ notificationId: 'n', to: 'x@example.com', subject: 's', text: 't', messageId: '<n@b.example>' }), { instanceOf: DeliveryError });
  t.false(err!.permanent);
  await channel.close();
});

test('the log channel writes the whole message to the log and reports it delivered', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk))); done(); } });
  const channel = createLogChannel(pino({ level: 'info' }, sink));
  const result = await channel.send({ notificationId: 'n-1', to: 'x@example.com', subject: 'Hello', text: 'Body\ntext', messageId: '<n-1@b.example>' });
  t.deepEqual(result, { messageId: '<n-1@b.example>', response: 'logged' });
  t.like(lines[0], { notificationId: 'n-1', to: 'x@example.com', subject: 'Hello', text: 'Body\ntext', msg: 'notification (log channel)' });
});

test('configuration: email needs SMTP_URL; the channel defaults to email only when one is set', (t) => {
  const err = t.throws(() => loadConfig({ NOTIFICATION_CHANNEL: 'email' }), { instanceOf: ConfigError });
  t.deepEqual(err?.problems.map((p) => p.variable), ['SMTP_URL']);
  const bad = t.throws(() => loadConfig({ SMTP_URL: 'http://mail.example' }), { instanceOf: ConfigError });
  t.deepEqual(bad?.problems.map((p) => p.variable), ['SMTP_URL']);
  const defaults = loadConfig({});
  t.like(defaults, { SMTP_FROM: 'Boxoffice <no-reply@boxoffice.local>', NOTIFICATION_MAX_ATTEMPTS: 8, NOTIFICATION_BACKOFF_MS: 60_000, NOTIFICATION_PARK_HOURS: 72 });
  t.is(channelFor(defaults), 'log');
  t.is(channelFor(loadConfig({ SMTP_URL: 'smtps://u:p@mail.example:465' })), 'email');
  t.is(channelFor(loadConfig({ SMTP_URL: 'smtp://mail.example', NOTIFICATION_CHANNEL: 'log' })), 'log');
  t.is(mailDomain('Boxoffice <Tickets@Mail.Example.com>'), 'mail.example.com');
  t.is(mailDomain('no-domain'), 'boxoffice.local');
  t.is(mailDomain('x@evil>\r\nBcc: y'), 'boxoffice.local');
});
