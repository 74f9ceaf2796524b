import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import test from 'ava';
import { chromium, type Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../../helpers/app.ts';

// Chromium from Debian (`apt-get install -y chromium`); playwright-core downloads no browser of its own
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const admin = { email: `board-admin-${randomUUID().slice(0, 8)}@example.com`, password: 'Adm1n-browser-9' };

let app: TestApp;
let browser: Browser;

test.before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  [app, browser] = await Promise.all([
    startTestApp({ env: { ROLE: 'web' } }),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
  ]);
  await app.app.auth!.admin.createAdmin(admin);
  // a job waiting on the notification queue (ROLE=web: no worker takes it)
  await app.app.notification!.queues![0]!.add('deliver', { notificationId: randomUUID() });
});
test.after.always(async () => {
  await browser?.close();
  await app?.stop();
});

test('an admin logs in through /admin/login and sees the notification queue on the bull-board page', async (t) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cspErrors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) cspErrors.push(msg.text());
  });
  try {
    await page.goto(`${app.url}/admin/queues`);
    t.is(new URL(page.url()).pathname, '/admin/login', 'sent to the login page first');
    t.is(new URL(page.url()).searchParams.get('next'), '/admin/queues');

    await page.fill('#email', admin.email);
    await page.fill('#password', 'not-the-password-1');
    await page.click('button[type=submit]');
    await page.getByText('Email or password is incorrect.').waitFor({ timeout: 10_000 });
    t.deepEqual(await context.cookies(), [], 'no session after a failed login');

    await page.fill('#password', admin.password);
    await Promise.all([page.waitForURL(`${app.url}/admin/queues`, { timeout: 15_000 }), page.click('button[type=submit]')]);
    // the React bundle renders the queue list: the CSP lets the dashboard's own scripts run
    await page.getByText('notification-delivery').first().waitFor({ timeout: 20_000 });
    t.true(await page.getByText('notification-delivery').first().isVisible());

    const [session] = await context.cookies();
    t.like(session, { name: 'bo_admin_session', path: '/admin', httpOnly: true, sameSite: 'Strict', secure: false });
    t.is(await page.evaluate('document.cookie'), '', 'the token is not readable from scripts');
    // only the dashboard's third-party web font is refused; nothing of its own
    t.deepEqual(cspErrors.filter((e) => !/fonts\.googleapis\.com/.test(e)), []);
  } finally {
    await context.close();
  }
});
