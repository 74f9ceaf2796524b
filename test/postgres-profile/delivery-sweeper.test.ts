// test/modules/notification/delivery-sweeper.test.ts again, with every app on BACKEND=postgres (issue 12, ADR 0078): notification jobs in the bullmq schema (BullMQ's Postgres backend), the sweeper's lease in sweep_leases.
process.env['TEST_BACKEND'] = 'postgres';
await import('../modules/notification/delivery-sweeper.test.ts');
