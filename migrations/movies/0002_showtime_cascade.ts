import type { Knex } from 'knex';

/**
 * A showtime goes with its movie or theater, as in the shared tables (ON DELETE CASCADE there): when the
 * strangler mapping copies a deletion from one side to the other (ADR 0050), both sides must agree on
 * what a deleted movie takes with it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE showtimes DROP CONSTRAINT IF EXISTS showtimes_movie_id_fkey;
    ALTER TABLE showtimes DROP CONSTRAINT IF EXISTS showtimes_theater_id_fkey;
    ALTER TABLE showtimes ADD CONSTRAINT showtimes_movie_id_fkey FOREIGN KEY (movie_id) REFERENCES movies(id) ON DELETE CASCADE;
    ALTER TABLE showtimes ADD CONSTRAINT showtimes_theater_id_fkey FOREIGN KEY (theater_id) REFERENCES theaters(id) ON DELETE CASCADE;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE showtimes DROP CONSTRAINT IF EXISTS showtimes_movie_id_fkey;
    ALTER TABLE showtimes DROP CONSTRAINT IF EXISTS showtimes_theater_id_fkey;
    ALTER TABLE showtimes ADD CONSTRAINT showtimes_movie_id_fkey FOREIGN KEY (movie_id) REFERENCES movies(id);
    ALTER TABLE showtimes ADD CONSTRAINT showtimes_theater_id_fkey FOREIGN KEY (theater_id) REFERENCES theaters(id);
  `);
}
