import { existsSync } from 'node:fs';
import test from 'ava';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { api } from '../helpers/app.ts';
import { advanceAuth, createDashboardScenario, MARKUP_NAME, OWN_EMAIL, type DashboardScenario } from './dashboard-scenario.ts';

/**
 * The migration dashboard (ADR 0052) on a real app: its JSON API behind the admin guard, and the pages in
 * Chromium — phases, the drift chart, a run's findings with both sides, the link to bull-board — with a
 * planted finding value holding markup that must stay text.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const API = '/api/v1/admin/migration';

let s: DashboardScenario;
let browser: Browser | undefined;
let launching: Promise<unknown> | undefined;
test.before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  // the browser starts while the scenario is built; whichever fails, the other is still closed afterwards
  launching = chromium
    .launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] })
    .then((b) => (browser = b));
  s = await createDashboardScenario();
  await launching;
});
test.after.always(async () => {
  await launching?.catch(() => undefined);
  await browser?.close();
  await s?.close();
});

const admin = (path: string) => api(s.app.url, 'GET', `${API}${path}`, { token: s.adminToken });
const driftRun = () => s.runs[2]!.find((r) => r.aggregate === 'users')!;

test.serial('the API: 401 without a token and 403 with a user token (problem+json), 422 naming the bad parameter, 404 for an unknown run', async (t) => {
  for (const path of ['/modules', '/runs', '/runs/1', '/log']) {
    const anonymous = await api(s.app.url, 'GET', `${API}${path}`);
    t.is(anonymous.status, 401, path);
    t.regex(anonymous.headers.get('content-type') ?? '', /application\/problem\+json/);
    const user = await api(s.app.url, 'GET', `${API}${path}`, { token: s.userToken });
    t.is(user.status, 403, path);
    t.regex(user.headers.get('content-type') ?? '', /application\/problem\+json/);
  }
  for (const [path, field] of [['/runs?limit=abc', 'query.limit'], ['/runs?limit=0', 'query.limit'], ['/runs?module=tickets', 'query.module'], ['/runs?before=-3', 'query.before'], ['/runs/abc', 'path.id'], ['/runs/1?kind=nope', 'query.kind'], ['/runs/1?after=x', 'query.after'], ['/log?limit=100000', 'query.limit']] as const) {
    const res = await admin(path);
    t.is(res.status, 422, path);
    t.deepEqual((res.body.errors as { field: string }[]).map((e) => e.field), [field], path);
  }
  const unknown = await admin('/runs/987654321');
  t.is(unknown.status, 404);
  t.regex(unknown.body.type, /reconciliation-run-not-found/);
});

test.serial('an admin sees every module with its phase, flags and next step; runs newest first, keyset paged; a run\'s findings paged with both values', async (t) => {
  const modules = await admin('/modules');
  t.is(modules.status, 200);
  t.deepEqual(modules.body.modules.map((m: { module: string }) => m.module), ['auth', 'movie', 'booking', 'payment', 'notification']);
  const auth = modules.body.modules[0];
  t.like(auth, { phase: 'LEGACY', label: 'LEGACY', path: ['LEGACY', 'DUAL_WRITE', 'BACKFILLED', 'SHADOW_READ', 'READ_NEW', 'NEW_ONLY', 'EXTRACTED'] });
  t.like(auth.flags.find((f: { flag: string }) => f.flag === 'dual_write_auth_db'), { rollout: 0 });
  t.like(auth.next, { to: 'DUAL_WRITE', changes: [{ flag: 'dual_write_auth_db', rollout: 100 }] });
  t.true(Array.isArray(auth.next.guards));
  const latest = auth.latest_runs.find((r: { aggregate: string }) => r.aggregate === 'users');
  t.like(latest, { id: driftRun().runId, status: 'drift', remaining: { fields: 2, missing_in_own: 1, missing_in_legacy: 0, orphan: 0 } });

  // every auth run, newest first, two per page
  const ids: number[] = [];
  let before: number | null | undefined;
  do {
    const page = await admin(`/runs?module=auth&limit=2${before ? `&before=${before}` : ''}`);
    t.is(page.status, 200);
    t.true(page.body.items.length <= 2);
    ids.push(...page.body.items.map((r: { id: number }) => r.id));
    before = page.body.next_before;
  } while (before);
  t.deepEqual(ids, s.runs.flat().map((r) => r.runId).sort((a, b) => b - a));
  const users = await admin('/runs?aggregate=users&limit=50');
  t.true(users.body.items.every((r: { aggregate: string }) => r.aggregate === 'users'));

  // the drift run's findings, one per page
  const findings: { key: string; kind: string; fields: { field: string; legacy: unknown; own: unknown }[]; legacy: Record<string, unknown> | null; own: Record<string, unknown> | null }[] = [];
  let after: number | null | undefined;
  do {
    const page = await admin(`/runs/${driftRun().runId}?limit=1${after ? `&after=${after}` : ''}`);
    t.is(page.status, 200);
    t.like(page.body.run, { id: driftRun().runId, module: 'auth', aggregate: 'users', status: 'drift' });
    t.is(page.body.findings.total, 3);
    findings.push(...page.body.findings.items);
    after = page.body.findings.next_after;
  } while (after);
  t.deepEqual(findings.map((f) => [f.key, f.kind]).sort(), [[s.planted.markup, 'fields'], [s.planted.ownEmail, 'fields'], [s.planted.missing, 'missing_in_own']].sort());
  const markup = findings.find((f) => f.key === s.planted.markup)!;
  t.is(markup.fields[0]!.field, 'full_name');
  t.is(markup.fields[0]!.legacy, MARKUP_NAME, 'the legacy value');
  t.is(markup.legacy!['full_name'], MARKUP_NAME);
  t.is(markup.own!['full_name'], markup.fields[0]!.own, 'and the own value');
  t.not(markup.fields[0]!.own, MARKUP_NAME);
  t.like(findings.find((f) => f.key === s.planted.ownEmail)!.fields[0], { field: 'email', own: OWN_EMAIL });
  const gone = findings.find((f) => f.key === s.planted.missing)!;
  t.is(gone.legacy!['password_hash'], '[redacted]', 'credentials are not shown');
  t.is(gone.legacy!['full_name'], (await s.app.app.databases.forRole('legacy', 'public').raw(`SELECT full_name FROM public.users WHERE id = ?`, [s.planted.missing])).rows[0].full_name);
  const missing = await admin(`/runs/${driftRun().runId}?kind=missing_in_own`);
  t.deepEqual(missing.body.findings.items.map((f: { key: string; own: unknown }) => [f.key, f.own]), [[s.planted.missing, null]]);
});

test.serial('the cutover log shows an advance, and the module its new phase', async (t) => {
  await advanceAuth(s);
  const log = await admin('/log?module=auth&limit=5');
  t.is(log.status, 200);
  t.like(log.body.items[0], { action: 'advance', actor: 'dashboard-test', module: 'auth', from_phase: 'LEGACY', to_phase: 'DUAL_WRITE', flags: { dual_write_auth_db: 100 } });
  const modules = await admin('/modules');
  t.like(modules.body.modules[0], { module: 'auth', phase: 'DUAL_WRITE' });
  t.deepEqual((await admin('/log?module=movie')).body.items, []);
});

async function loggedIn(t: { is(a: unknown, b: unknown, m?: string): void }, context: BrowserContext, path: string) {
  const page = await context.newPage();
  await page.goto(`${s.app.url}${path}`);
  t.is(new URL(page.url()).pathname, '/admin/login', 'sent to the login page first');
  t.is(new URL(page.url()).searchParams.get('next'), path);
  await page.fill('#email', s.admin.email);
  await page.fill('#password', s.admin.password);
  await Promise.all([page.waitForURL(`${s.app.url}${path}`, { timeout: 15_000 }), page.click('button[type=submit]')]);
  return page;
}

test.serial('in Chromium: an admin logs in, sees the phases and the drift chart, opens a run and reads both values of each finding; markup stays text', async (t) => {
  const context = await browser!.newContext();
  const cspErrors: string[] = [];
  try {
    const page = await loggedIn(t, context, '/admin/migration');
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) cspErrors.push(msg.text());
    });
    t.is(await page.locator('.module').count(), 5);
    t.is(await page.locator('.module[data-module=auth] .phase').textContent(), 'DUAL_WRITE');
    t.is(await page.locator('.module[data-module=auth] ol.path li.current').textContent(), 'DUAL_WRITE');
    t.is(await page.locator('.module[data-module=movie] .phase').textContent(), 'LEGACY');
    t.regex((await page.locator('.module[data-module=auth]').textContent()) ?? '', /dual_write_auth_db/);

    // the drift chart: one point per finished run, the latest users run with its three differences
    const points = page.locator('#drift-chart svg circle.point');
    t.is(await points.count(), s.runs.flat().length);
    t.is(await page.locator(`#drift-chart circle.point[data-run="${driftRun().runId}"]`).getAttribute('data-remaining'), '3');
    t.is(await page.locator(`#drift-chart circle.point[data-run="${s.runs[0]!.find((r) => r.aggregate === 'users')!.runId}"]`).getAttribute('data-remaining'), '0');
    t.regex((await page.locator('#cutover-log').textContent()) ?? '', /dashboard-test[\s\S]*LEGACY → DUAL_WRITE/);

    await Promise.all([page.waitForURL(`${s.app.url}/admin/migration/runs/${driftRun().runId}`), page.locator(`#latest-runs a[href="/admin/migration/runs/${driftRun().runId}"]`).click()]);
    t.is(await page.locator('.finding').count(), 3);
    const markup = page.locator(`.finding[data-key="${s.planted.markup}"]`);
    const cells = markup.locator('table.fields tr.diff td');
    t.deepEqual(await cells.allTextContents(), ['full_name', MARKUP_NAME, (await markup.locator('table.sides tr[data-field=full_name] td').nth(2).textContent())!]);
    t.not(await cells.nth(2).textContent(), MARKUP_NAME);
    t.is(await page.evaluate('window.__planted'), undefined, 'the planted script never ran');
    t.is(await page.locator('main script, main b').count(), 0, 'nor became an element');
    const email = page.locator(`.finding[data-key="${s.planted.ownEmail}"] table.fields tr.diff td`);
    t.is(await email.nth(2).textContent(), OWN_EMAIL);
    const gone = page.locator(`.finding[data-key="${s.planted.missing}"] table.sides tr.diff`);
    t.true((await gone.count()) > 0, 'a row missing on one side: every field highlighted');
    t.is(await gone.first().locator('td').nth(2).textContent(), '— (no row)');

    // one finding per page: the pager walks them all
    await page.goto(`${s.app.url}/admin/migration/runs/${driftRun().runId}?limit=1`);
    const seen = [await page.locator('.finding').getAttribute('data-key')];
    while (await page.locator('a[rel=next]').count()) {
      await Promise.all([page.waitForURL(/after=/), page.locator('a[rel=next]').click()]);
      seen.push(await page.locator('.finding').getAttribute('data-key'));
    }
    t.deepEqual(seen.sort(), [s.planted.markup, s.planted.ownEmail, s.planted.missing].sort());

    // bull-board, one link away, with the same session, lists the reconciliation queue
    t.is(await page.locator('header a[href="/admin/queues"]').count(), 1);
    const queues = await context.request.get(`${s.app.url}/admin/queues/api/queues`);
    t.is(queues.status(), 200);
    t.true(((await queues.json()) as { queues: { name: string }[] }).queues.some((q) => q.name === 'migration-reconcile'));
    t.deepEqual(cspErrors, []);
  } finally {
    await context.close();
  }
});

test.serial('in Chromium: no session is sent to the login page; a user token is refused with 403', async (t) => {
  const anonymous = await browser!.newContext();
  const user = await browser!.newContext({ extraHTTPHeaders: { Authorization: `Bearer ${s.userToken}` } });
  try {
    const page = await anonymous.newPage();
    await page.goto(`${s.app.url}/admin/migration/runs/${driftRun().runId}`);
    t.is(new URL(page.url()).pathname, '/admin/login');
    t.is(new URL(page.url()).searchParams.get('next'), `/admin/migration/runs/${driftRun().runId}`);
    const refused = await (await user.newPage()).goto(`${s.app.url}/admin/migration`);
    t.is(refused?.status(), 403);
  } finally {
    await anonymous.close();
    await user.close();
  }
});

test.serial('the run page escapes what it shows: the planted markup arrives as entities', async (t) => {
  const res = await fetch(`${s.app.url}/admin/migration/runs/${driftRun().runId}`, { headers: { authorization: `Bearer ${s.adminToken}`, accept: 'text/html' } });
  t.is(res.status, 200);
  t.regex(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const body = await res.text();
  t.true(body.includes('&lt;script&gt;window.__planted = 1&lt;/script&gt;&lt;b&gt;Mallory&lt;/b&gt;'));
  t.false(body.includes('<script'));
});
