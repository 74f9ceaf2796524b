// test/modules/auth/login-throttle.test.ts again, with every app on BACKEND=postgres (issue 12, ADR 0078): login throttling counts in the auth schema's rate_limits and login_known_addresses.
process.env['TEST_BACKEND'] = 'postgres';
await import('../modules/auth/login-throttle.test.ts');
