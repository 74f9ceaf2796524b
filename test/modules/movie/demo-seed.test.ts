import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Command } from 'commander';
import pg from 'pg';
import { demoShowSlots, registerSeedDemo, seedDemoCatalog } from '../../../src/cli/seed/demo-seed.ts';
import { api, startTestApp } from '../../helpers/app.ts';
import { createTestDatabase } from '../../helpers/db.ts';

test('seedDemoCatalog fills an empty catalog with bookable showtimes and adds nothing when run again', async (t) => {
  const t0 = await startTestApp({ env: { STORE_MOVIE: 'own' } });
  try {
    const now = new Date('2030-06-01T05:00:00Z'); // 12:00 in UTC+7: the 10:00 show of day 0 is past
    const first = await seedDemoCatalog(t0.app.movie!.admin, { days: 2, utcOffsetHours: 7, now });
    t.deepEqual(first, { movies: { created: 4, existing: 0 }, theaters: { created: 3, existing: 0 }, showtimes: { created: 15, existing: 0 } });
    const second = await seedDemoCatalog(t0.app.movie!.admin, { days: 2, utcOffsetHours: 7, now });
    t.deepEqual(second, { movies: { created: 0, existing: 4 }, theaters: { created: 0, existing: 3 }, showtimes: { created: 0, existing: 15 } });
    const day = await api(t0.url, 'GET', '/api/v1/showtimes?date=2030-06-01&limit=100');
    t.deepEqual(day.body.items.map((s: { start_time: string }) => s.start_time).sort(), [
      '2030-06-01T07:00:00.000Z', '2030-06-01T07:00:00.000Z', '2030-06-01T07:00:00.000Z',
      '2030-06-01T12:00:00.000Z', '2030-06-01T12:00:00.000Z', '2030-06-01T12:00:00.000Z',
    ]);
    const seats = await api(t0.url, 'GET', `/api/v1/showtimes/${day.body.items[0].id}/seats`);
    t.true(seats.body.length >= 38);
  } finally {
    await t0.stop();
  }
});

test('`boxoffice seed demo` (legacy store by default) is idempotent end to end', async (t) => {
  const db = await createTestDatabase();
  const keys = await mkdtemp(join(tmpdir(), 'bo-keys-'));
  Object.assign(process.env, { DATABASE_URL: db.url, JWT_KEYS_DIR: keys, REDIS_KEY_PREFIX: `bo-demo-${process.pid}:`, LOG_LEVEL: 'silent' });
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const run = async () => {
    const program = new Command().exitOverride();
    registerSeedDemo(program.command('seed'));
    process.stdout.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      await program.parseAsync(['node', 'boxoffice', 'seed', 'demo', '--days', '3']);
    } finally {
      process.stdout.write = write;
    }
  };
  const counts = async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query(`SELECT (SELECT count(*) FROM public.movies) AS m, (SELECT count(*) FROM public.theaters) AS th, (SELECT count(*) FROM public.seats) AS s, (SELECT count(*) FROM public.showtimes) AS st`);
      return rows[0] as Record<string, string>;
    } finally {
      await c.end();
    }
  };
  try {
    const startedAt = Date.now();
    await run();
    const first = await counts();
    t.like(first, { m: '4', th: '3' });
    // 3 days × 3 theaters × 3 slots, less today's that begin within 30 min (as of either end of the run)
    const possible = [startedAt, Date.now()].map((at) => String(3 * demoShowSlots({ days: 3, utcOffsetHours: 7 }, new Date(at)).length));
    t.true(possible.includes(first['st']!), `3 days × 3 theaters × 3 slots, less those already begun: ${first['st']}, expected ${possible.join(' or ')}`);
    await run();
    t.deepEqual(await counts(), first);
    t.regex(lines.join(''), /legacy store\): movies 4 created[\s\S]*movies 0 created, 4 already there/);
  } finally {
    await rm(keys, { recursive: true, force: true });
    await db.drop();
  }
});
