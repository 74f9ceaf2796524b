// test/platform/jobs/bull-board.test.ts again, with every app on BACKEND=postgres (issue 12, ADR 0078): the job dashboard reading queues that live in Postgres.
process.env['TEST_BACKEND'] = 'postgres';
await import('../platform/jobs/bull-board.test.ts');
