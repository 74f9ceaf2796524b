/**
 * What shadow reads cost a read: GET /api/v1/auth/me (a token check and one routed user read) against
 * the service in a child process, with auth dual-writing, shadow reads off (DUAL_WRITE) and on
 * (SHADOW_READ: the own schema read beside every read and compared off the request), side by side in
 * alternating rounds.
 *
 *   npm run bench -- shadow-read
 */
import { createTestDatabase } from '../test/helpers/db.ts';
import { drive, forgeUsers, percentile, startService, timedRequest, type Driven } from './_service.ts';

const CLIENTS = Number(process.env['BENCH_CLIENTS'] ?? 20);
const REQUESTS = Number(process.env['BENCH_REQUESTS'] ?? 6000);

interface Result extends Driven { label: string }

async function measure(dbUrl: string, label: string, flags: string): Promise<Result> {
  const service = await startService(dbUrl, { FLAGS_BOOTSTRAP: `use_local_jwt=true,${flags}`, DB_POOL_MAX: '10' });
  try {
    const users = await forgeUsers(service, CLIENTS);
    const run = async (n: number): Promise<Result> => ({
      label,
      ...(await drive(CLIENTS, n, 200, (agent, c) => timedRequest(agent, service.url, 'GET', '/api/v1/auth/me', users[c]!.token))),
    });
    await run(1000);
    return await run(REQUESTS);
  } finally {
    await service.stop();
  }
}

const db = await createTestDatabase();
const results: Result[] = [];
try {
  for (let round = 1; round <= 2; round++) {
    results.push(await measure(db.url, `shadow reads off (round ${round})`, 'dual_write_auth_db=true'));
    results.push(await measure(db.url, `shadow reads on  (round ${round})`, 'dual_write_auth_db=true,verify_auth_reads=true'));
  }
} finally {
  await db.drop();
}
const out = (s: string) => process.stdout.write(`${s}\n`);
out(`${REQUESTS} GET /api/v1/auth/me by ${CLIENTS} clients from another process (Node ${process.version})`);
out('configuration                  req/s    p50 ms   p99 ms');
for (const r of results) out(`${r.label}   ${(r.ok / r.seconds).toFixed(0).padStart(6)}  ${percentile(r.latencies, 50).toFixed(2).padStart(7)}  ${percentile(r.latencies, 99).toFixed(2).padStart(7)}`);
const avg = (on: boolean, f: (r: Result) => number) => results.filter((r) => r.label.includes(on ? ' on ' : ' off ')).map(f).reduce((a, b) => a + b) / 2;
out(`p50 on ÷ off: ${(avg(true, (r) => percentile(r.latencies, 50)) / avg(false, (r) => percentile(r.latencies, 50))).toFixed(2)}   p99 on ÷ off: ${(avg(true, (r) => percentile(r.latencies, 99)) / avg(false, (r) => percentile(r.latencies, 99))).toFixed(2)}   (target ≤ 1.3)`);
out(`throughput on ÷ off: ${(avg(true, (r) => r.ok / r.seconds) / avg(false, (r) => r.ok / r.seconds)).toFixed(2)}`);
process.exit(0);
