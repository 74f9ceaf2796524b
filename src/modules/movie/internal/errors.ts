import { ConflictError, NotFoundError } from '../../../platform/errors.ts';

export class MovieNotFoundError extends NotFoundError {
  constructor() {
    super('no movie with this id', 'movie-not-found');
  }
}

export class TheaterNotFoundError extends NotFoundError {
  constructor() {
    super('no theater with this id', 'theater-not-found');
  }
}

export class ShowtimeNotFoundError extends NotFoundError {
  constructor() {
    super('no showtime with this id', 'showtime-not-found');
  }
}

export class DuplicateSeatError extends ConflictError {
  constructor() {
    super('the layout names the same seat twice', 'duplicate-seat', { field: 'layout.rows' });
  }
}

export class ShowtimeOverlapError extends ConflictError {
  constructor(overlapping: string[]) {
    super('the theater already has a showtime at that time', 'showtime-overlap', { overlapping });
  }
}

export class ShowtimeCancelledError extends ConflictError {
  constructor() {
    super('the showtime is cancelled', 'showtime-cancelled');
  }
}
