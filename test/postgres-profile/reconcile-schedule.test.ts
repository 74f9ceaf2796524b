// test/migration/reconcile-schedule.test.ts again, with the app on BACKEND=postgres (issue 12, ADR 0078): scheduled reconciliation through BullMQ job schedulers in the bullmq schema.
process.env['TEST_BACKEND'] = 'postgres';
await import('../migration/reconcile-schedule.test.ts');
