// test/platform/jobs/job-platform.test.ts again, on BullMQ's Postgres backend (issue 12, ADR 0078): retries with back-off, graceful stop, metrics, readiness — jobs in the bullmq schema.
process.env['TEST_BACKEND'] = 'postgres';
await import('../platform/jobs/job-platform.test.ts');
