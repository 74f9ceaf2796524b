// test/modules/booking/booking-contention.test.ts again, with every app on BACKEND=postgres (issue 12, ADR 0078): seat races decided by the database alone, on both stores.
process.env['TEST_BACKEND'] = 'postgres';
await import('../modules/booking/booking-contention.test.ts');
