import test from 'ava';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';
import { createTestVhost, type TestVhost } from '../../helpers/events.ts';
import { startSmtp, waitFor, type TestSmtp } from './support.ts';

let vhost: TestVhost;
let smtp: TestSmtp;
let app: TestApp;

test.before(async () => {
  [vhost, smtp] = await Promise.all([createTestVhost(), startSmtp()]);
  // the whole process: auth's outbox → relay → RabbitMQ → notification's consumer → BullMQ → SMTP
  app = await startTestApp({
    env: {
      ROLE: 'all',
      AMQP_URL: vhost.url,
      FLAGS_BOOTSTRAP: 'publish_user_events=true',
      EVENTS_RELAY_POLL_MS: '100',
      SMTP_URL: smtp.url,
      NOTIFICATION_BACKOFF_MS: '100',
    },
  });
});
test.after.always(async () => {
  await app?.stop();
  await smtp?.close();
  await vhost?.drop();
});

test('registering sends the welcome email end to end, and it shows in GET /api/v1/notifications as sent', async (t) => {
  const u = await registerAndLogin(app.url, 'e2e');
  const [mail] = await waitFor('the welcome mail', () => smtp.mails.filter((m) => m.to.includes(u.user.email)).length > 0 && smtp.mails.filter((m) => m.to.includes(u.user.email)), 30_000);
  t.is(mail!.headers['subject'], `Welcome to Boxoffice, ${u.user.full_name}`);
  const list = await waitFor('the notification sent', async () => {
    const res = await api(app.url, 'GET', '/api/v1/notifications', { token: u.access });
    return res.body.items?.[0]?.status === 'sent' && res.body;
  });
  t.is(list.total, 1);
  t.like(list.items[0], { type: 'welcome', status: 'sent', channel: 'email' });
  t.is(mail!.headers['message-id'], `<${list.items[0].id}@boxoffice.local>`);
  t.is(smtp.mails.filter((m) => m.to.includes(u.user.email)).length, 1);
});
