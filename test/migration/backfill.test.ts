import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import test from 'ava';
import { createLegacyUserStore } from '../../src/modules/auth/internal/legacy-user-store.ts';
import { createOwnUserStore } from '../../src/modules/auth/internal/own-user-store.ts';
import { USER_STORE_METHODS, type UserStore } from '../../src/modules/auth/internal/user-store.ts';
import { createPool, type Knex } from '../../src/platform/db.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { count } from '../helpers/events.ts';
import { compareSides, createStranglerRig, type StranglerRig } from '../helpers/strangler.ts';

/**
 * `boxoffice backfill`, as an operator runs it (a separate process, two workers on two key ranges): killed
 * mid-way it resumes from its checkpoints; application writes made while it runs — to rows it already passed and to rows it has not
 * reached — survive; it ends with both sides equal; a second run changes nothing.
 */
const USERS = 3000;
let db: TestDatabase;
let admin: Knex;
let rig: StranglerRig;
test.before(async () => {
  db = await createTestDatabase();
  admin = createPool(db.url, { max: 2 });
  // rows as the old system wrote them: role, is_active, timestamps sometimes NULL
  await admin.raw(`
    INSERT INTO public.users (id, email, full_name, hashed_password, role, is_active, created_at, updated_at)
    SELECT gen_random_uuid(), 'old' || g || '@example.com', CASE WHEN g % 5 = 0 THEN NULL ELSE 'Old ' || g END, '$2b$10$' || md5(g::text),
           CASE WHEN g % 7 = 0 THEN NULL WHEN g % 997 = 0 THEN 'admin' ELSE 'user' END, CASE WHEN g % 11 = 0 THEN NULL ELSE g % 50 <> 0 END,
           CASE WHEN g % 13 = 0 THEN NULL ELSE timestamp '2020-01-01' + g * interval '1 minute' END, NULL
      FROM generate_series(1, ${USERS}) g`);
  rig = await createStranglerRig(db, { dual_write_auth_db: true });
});
test.after.always(async () => {
  await rig?.close();
  await admin?.destroy();
  await db?.drop();
});

interface Line { copied: number; resumed: boolean; done: boolean; lastKey: string | null }

/** run the CLI; `until` may kill it (SIGKILL) on a progress line */
function runBackfill(args: string[], until?: (line: Line) => boolean): Promise<{ code: number | null; lines: Line[]; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli/main.ts', 'backfill', 'auth', '--json', ...args], {
      env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Line[] = [];
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    createInterface({ input: child.stderr }).on('line', (raw) => {
      stderr += `${raw}\n`;
      if (!raw.startsWith('{')) return;
      const line = JSON.parse(raw) as Line;
      lines.push(line);
      if (until?.(line)) child.kill('SIGKILL');
    });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 || until ? resolve({ code, lines, stdout }) : reject(new Error(`backfill exited ${code}: ${stderr}`))));
  });
}

test.serial('killed mid-way it resumes from its checkpoint; concurrent writes survive; both sides end equal', async (t) => {
  const users = rig.strangler.router.route({ module: 'auth', name: 'users', legacy: createLegacyUserStore('public'), own: createOwnUserStore(), methods: USER_STORE_METHODS }) as UserStore;
  const ids = (await admin('public.users').orderBy('id').pluck('id')) as string[];
  const [first, last] = [ids[0]!, ids.at(-1)!];
  let wrote = false;
  const killed = await runBackfill(['--batch', '100', '--rate', '2000', '--jobs', '2'], (line) => {
    if (line.copied >= 600 && !wrote) {
      wrote = true;
      // the application writes while the backfill runs: one row it passed, one it has not reached
      void users.updateRole(rig.databases.forModule('auth'), first, 'admin');
      void users.updatePasswordHash(rig.databases.forModule('auth'), last, 'written-during-backfill');
    }
    return line.copied >= 1200;
  });
  t.is(killed.code, null, 'the first run was killed');
  const [run] = (await admin('migration.backfill_runs').where({ module: 'auth' }).orderBy('id')) as { id: number; status: string; parts: number }[];
  t.is(run!.status, 'running', 'a killed run is left unfinished');
  t.is(run!.parts, 2, 'two key ranges, one per worker');
  const [{ n }] = (await admin('migration.backfill_parts').where({ run_id: run!.id }).sum({ n: 'rows_copied' })) as [{ n: string }];
  const checkpoint = Number(n);
  t.true(checkpoint >= 1200 && checkpoint < USERS, `checkpoint at ${checkpoint}`);

  const resumed = await runBackfill(['--batch', '500']);
  t.is(resumed.code, 0);
  t.true(resumed.lines[0]!.resumed, 'the second run resumed the first (with its two ranges)');
  t.is(resumed.lines[0]!.copied, checkpoint, 'it starts from the checkpoint, not from zero');
  t.true(resumed.lines.at(-1)!.done);
  t.regex(resumed.stdout, /auth\/users: finished with 3000 copied/);
  t.is(await count(admin, 'SELECT count(*) AS n FROM auth.users'), USERS);
  t.deepEqual(await compareSides(admin, rig.mapping('auth')), []);
  t.is(((await admin('auth.users').where({ id: first }).first()) as { role: string }).role, 'admin');
  t.is(((await admin('auth.users').where({ id: last }).first()) as { password_hash: string }).password_hash, 'written-during-backfill');
});

test.serial('a second run changes nothing', async (t) => {
  const before = (await admin.raw(`SELECT id, xmin::text AS v FROM auth.users ORDER BY id`)).rows as { id: string; v: string }[];
  const again = await runBackfill([]);
  t.is(again.code, 0);
  t.false(again.lines[0]!.resumed, 'a finished backfill starts a new run');
  const after = (await admin.raw(`SELECT id, xmin::text AS v FROM auth.users ORDER BY id`)).rows as { id: string; v: string }[];
  t.deepEqual(after, before, 'rows were rewritten');
});

test.serial('refused while nothing dual-writes the module', async (t) => {
  const other = await createTestDatabase();
  t.teardown(() => other.drop());
  const child = spawn(process.execPath, ['src/cli/main.ts', 'backfill', 'auth'], { env: { ...process.env, DATABASE_URL: other.url }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  t.is(code, 1);
  t.regex(stderr, /no process dual-writes auth/);
});
