// test/modules/movie/movie-http.test.ts again, with every app on BACKEND=postgres (issue 12, ADR 0078): the catalog's cached reads invalidated through the generation row in the movie schema.
process.env['TEST_BACKEND'] = 'postgres';
await import('../modules/movie/movie-http.test.ts');
