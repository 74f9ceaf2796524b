import test from 'ava';
import { loadConfig, ConfigError, PRODUCTION_METRICS_PORT } from '../../src/platform/config.ts';
import { api, startTestApp } from '../helpers/app.ts';

// /metrics answered anyone on the public port (issue 8): behind METRICS_TOKEN, or on METRICS_PORT only.
const TOKEN = 'scrape-token-0123456789';

test('METRICS_TOKEN: /metrics answers only a scrape that sends it', async (t) => {
  const t0 = await startTestApp({ env: { METRICS_TOKEN: TOKEN } });
  try {
    const anonymous = await api(t0.url, 'GET', '/metrics');
    t.is(anonymous.status, 401);
    t.is(anonymous.body.type, 'urn:boxoffice:problem:unauthorized');
    t.notRegex(JSON.stringify(anonymous.body), /process_cpu/);
    t.is((await api(t0.url, 'GET', '/metrics', { token: 'scrape-token-wrong-guess' })).status, 401);
    t.is((await api(t0.url, 'GET', '/metrics', { token: TOKEN.slice(0, -1) })).status, 401);
    const scraped = await api(t0.url, 'GET', '/metrics', { token: TOKEN });
    t.is(scraped.status, 200);
    t.regex(scraped.body, /process_cpu_user_seconds_total/);
  } finally {
    await t0.stop();
  }
});

test('METRICS_PORT: /metrics moves to its own listener; the public port no longer has it', async (t) => {
  const t0 = await startTestApp({ env: { METRICS_PORT: '0' } });
  try {
    t.is((await api(t0.url, 'GET', '/metrics')).status, 404);
    const address = t0.app.metricsServer!.address();
    const metricsUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    await api(t0.url, 'GET', '/api/v1/auth/me');
    const scraped = await api(metricsUrl, 'GET', '/metrics');
    t.is(scraped.status, 200);
    t.regex(scraped.body, /http_request_duration_seconds_bucket\{[^}]*route="\/api\/v1\/auth\/me"/);
    t.is((await api(metricsUrl, 'GET', '/api/v1/movies')).status, 404, 'the metrics port serves nothing else');
    t.is((await api(metricsUrl, 'POST', '/metrics', { body: {} })).status, 405);
  } finally {
    await t0.stop();
  }
  t.false(t0.app.metricsServer!.listening, 'closed on shutdown');
});

test('METRICS_PORT and METRICS_TOKEN together: the own port wants the token too', async (t) => {
  const t0 = await startTestApp({ env: { METRICS_PORT: '0', METRICS_TOKEN: TOKEN } });
  try {
    const address = t0.app.metricsServer!.address();
    const metricsUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    t.is((await api(metricsUrl, 'GET', '/metrics')).status, 401);
    t.is((await api(metricsUrl, 'GET', '/metrics', { token: TOKEN })).status, 200);
  } finally {
    await t0.stop();
  }
});

test('configuration: production without either serves metrics on their own port; PORT cannot be shared', (t) => {
  t.is(loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/boxoffice' }).METRICS_PORT, PRODUCTION_METRICS_PORT);
  t.is(loadConfig({ NODE_ENV: 'production', DATABASE_URL: 'postgres://db/boxoffice', METRICS_TOKEN: TOKEN }).METRICS_PORT, undefined);
  t.is(loadConfig({ NODE_ENV: 'development' }).METRICS_PORT, undefined);
  const clash = t.throws(() => loadConfig({ PORT: '9100', METRICS_PORT: '9100' }), { instanceOf: ConfigError });
  t.is(clash?.problems[0]?.variable, 'METRICS_PORT');
  const short = t.throws(() => loadConfig({ METRICS_TOKEN: 'short' }), { instanceOf: ConfigError });
  t.is(short?.problems[0]?.variable, 'METRICS_TOKEN');
});
