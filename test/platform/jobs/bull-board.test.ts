import test from 'ava';
import { ADMIN_PAGE_CSP } from '../../../src/platform/http/admin-session.ts';
import { api, registerAndLogin, startTestApp, type TestApp } from '../../helpers/app.ts';

let app: TestApp;
let tlsApp: TestApp;
const admin = { email: `admin-${Date.now()}@example.com`, password: 'Adm1n-pass-board' };
let adminToken: string;
let userToken: string;
let userCreds: { email: string; password: string };

test.before(async () => {
  // ROLE=web: the page and its API are served by web processes; no broker needed
  app = await startTestApp({ env: { ROLE: 'web' } });
  tlsApp = await startTestApp({ env: { ROLE: 'web', TRUST_PROXY: 'true' } });
  await app.app.auth!.admin.createAdmin(admin);
  const login = await api(app.url, 'POST', '/api/v1/auth/login', { body: admin });
  adminToken = login.body.access_token;
  const u = await registerAndLogin(app.url, 'board');
  userToken = u.access;
  userCreds = { email: u.user.email, password: u.user.password };
});
test.after.always(async () => {
  await Promise.all([app?.stop(), tlsApp?.stop()]);
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
async function loginForm(base: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return fetch(`${base}/admin/login`, { method: 'POST', body: form(fields), headers, redirect: 'manual' });
}
const cookieOf = (res: Response) => res.headers.get('set-cookie')?.split(';')[0] ?? '';

test('anonymous: 401 problem+json for API clients (page and its API), a redirect to the login page for browsers', async (t) => {
  for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/js/anything.js']) {
    const res = await api(app.url, 'GET', path);
    t.is(res.status, 401, path);
    t.regex(res.headers.get('content-type') ?? '', /application\/problem\+json/, path);
    t.is(res.body.type, 'urn:boxoffice:problem:unauthorized', path);
  }
  const browser = await fetch(`${app.url}/admin/queues/queue/notification-delivery`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, redirect: 'manual' });
  t.is(browser.status, 302);
  t.is(browser.headers.get('location'), `/admin/login?next=${encodeURIComponent('/admin/queues/queue/notification-delivery')}`);
  t.is((await api(app.url, 'PUT', '/admin/queues/api/queues/notification-delivery/pause')).status, 401);
});

test('a signed-in non-admin: 403 on the page and its API; the admin login refuses them', async (t) => {
  for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
    const res = await api(app.url, 'GET', path, { token: userToken, headers: { accept: 'text/html' } });
    t.is(res.status, 403, path);
    t.is(res.body.type, 'urn:boxoffice:problem:forbidden', path);
  }
  const res = await loginForm(app.url, userCreds);
  t.is(res.status, 403);
  t.is(res.headers.get('set-cookie'), null);
  t.regex(await res.text(), /not an administrator/);
});

test('an admin with a Bearer token: the page (under the admin CSP) and the queue list with every hosted queue', async (t) => {
  const page = await api(app.url, 'GET', '/admin/queues', { token: adminToken });
  t.is(page.status, 200);
  t.regex(page.headers.get('content-type') ?? '', /text\/html/);
  t.is(page.headers.get('content-security-policy'), ADMIN_PAGE_CSP);
  t.is(page.headers.get('cache-control'), 'no-store');
  t.regex(page.body, /<base href="\/admin\/queues\/"/);
  const list = await api(app.url, 'GET', '/admin/queues/api/queues', { token: adminToken });
  t.is(list.status, 200);
  const names = list.body.queues.map((q: { name: string }) => q.name);
  t.deepEqual(names, [...app.app.host.queues(), ...app.app.strangler.queues].map((q) => q.name));
  t.true(names.includes('notification-delivery'));
  t.true(names.includes('migration-reconcile'), 'the scheduled reconciliation runs are on the board');
});

test('admin login form: an HttpOnly, SameSite=Strict cookie scoped to /admin that opens the board; bad credentials get none', async (t) => {
  const bad = await loginForm(app.url, { email: admin.email, password: 'wrong-password-1' });
  t.is(bad.status, 401);
  t.is(bad.headers.get('set-cookie'), null);
  t.regex(await bad.text(), /Email or password is incorrect/);

  const ok = await loginForm(app.url, { ...admin, next: '/admin/queues/queue/notification-delivery' });
  t.is(ok.status, 303);
  t.is(ok.headers.get('location'), '/admin/queues/queue/notification-delivery');
  const setCookie = ok.headers.get('set-cookie') ?? '';
  t.regex(setCookie, /^bo_admin_session=[\w-]+\.[\w-]+\.[\w-]+;/);
  t.regex(setCookie, /; path=\/admin(;|$)/);
  t.regex(setCookie, /; samesite=strict/i);
  t.regex(setCookie, /; httponly/i);
  t.notRegex(setCookie, /; secure/i, 'plain HTTP: not Secure (the browser would drop it)');
  const cookie = cookieOf(ok);
  t.is((await api(app.url, 'GET', '/admin/queues', { headers: { cookie } })).status, 200);
  t.is((await api(app.url, 'GET', '/admin/queues/api/queues', { headers: { cookie } })).status, 200);
  t.is((await api(app.url, 'GET', '/api/v1/notifications', { headers: { cookie } })).status, 401, 'the cookie is not an API credential');

  const out = await fetch(`${app.url}/admin/logout`, { method: 'POST', headers: { cookie }, redirect: 'manual' });
  t.is(out.status, 303);
  t.is(out.headers.get('location'), '/admin/login');
  t.regex(out.headers.get('set-cookie') ?? '', /^bo_admin_session=;.*expires=Thu, 01 Jan 1970/i);
});

test('login is Secure over TLS (behind a trusted proxy) and never redirects off-site', async (t) => {
  await tlsApp.app.auth!.admin.createAdmin(admin);
  const res = await loginForm(tlsApp.url, { ...admin, next: 'https://evil.example/admin/queues' }, { 'x-forwarded-proto': 'https' });
  t.is(res.status, 303);
  t.regex(res.headers.get('set-cookie') ?? '', /; secure/i);
  t.is(res.headers.get('location'), '/admin/queues', 'an off-site next is ignored');
  const slashes = await loginForm(tlsApp.url, { ...admin, next: '//evil.example/admin/x' }, { 'x-forwarded-proto': 'https' });
  t.is(slashes.headers.get('location'), '/admin/queues');
});

test('cross-site requests are refused: a state change with the cookie from another origin, a login posted from another site', async (t) => {
  const cookie = cookieOf(await loginForm(app.url, admin));
  const queue = app.app.host.queues().find((q) => q.name === 'notification-delivery')!;
  const pause = (headers: Record<string, string>) => api(app.url, 'PUT', '/admin/queues/api/queues/notification-delivery/pause', { headers: { cookie, ...headers } });
  t.is((await pause({ origin: 'https://evil.example' })).status, 403);
  t.is((await pause({ 'sec-fetch-site': 'cross-site' })).status, 403);
  t.false(await queue.isPaused());
  t.is((await pause({ origin: app.url, 'sec-fetch-site': 'same-origin' })).status, 200);
  t.true(await queue.isPaused());
  await queue.resume();
  t.is((await loginForm(app.url, admin, { origin: 'https://evil.example' })).status, 403);
  const bearer = await api(app.url, 'PUT', '/admin/queues/api/queues/notification-delivery/pause', { token: adminToken, headers: { origin: 'https://anywhere.example' } });
  t.is(bearer.status, 200, 'a Bearer header is not sent by browsers on their own: no CSRF check needed');
  await queue.resume();
});

test('a stale session cookie sends the browser back to the login page and clears the cookie', async (t) => {
  const res = await fetch(`${app.url}/admin/queues`, { headers: { cookie: 'bo_admin_session=not.a.token', accept: 'text/html' }, redirect: 'manual' });
  t.is(res.status, 302);
  t.regex(res.headers.get('location') ?? '', /^\/admin\/login\?next=/);
  t.regex(res.headers.get('set-cookie') ?? '', /^bo_admin_session=;/);
});

test('forms are accepted on the login paths only; the JSON API still answers 415 to them', async (t) => {
  const res = await fetch(`${app.url}/api/v1/auth/login`, { method: 'POST', body: form({ email: 'a@b.c', password: 'x' }) });
  t.is(res.status, 415);
  const page = await fetch(`${app.url}/admin/login?next=/admin/queues`);
  t.is(page.status, 200);
  t.is(page.headers.get('content-security-policy'), ADMIN_PAGE_CSP);
  const html = await page.text();
  t.regex(html, /<form method="post" action="\/admin\/login">/);
  t.regex(html, /<input type="hidden" name="next" value="\/admin\/queues">/);
  t.notRegex(html, /<script/, 'no script on the login page');
  const injected = await (await fetch(`${app.url}/admin/login?next=${encodeURIComponent('/admin/"><script>alert(1)</script>')}`)).text();
  t.notRegex(injected, /<script>alert/);
  t.regex(injected, /value="\/admin\/&quot;&gt;&lt;script&gt;/, 'kept, but escaped');
});
