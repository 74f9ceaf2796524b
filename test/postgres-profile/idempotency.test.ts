// test/modules/payment/idempotency.test.ts again, with every app on BACKEND=postgres (issue 12, ADR 0078): idempotency keys answered from Postgres alone (no Redis copy).
process.env['TEST_BACKEND'] = 'postgres';
await import('../modules/payment/idempotency.test.ts');
