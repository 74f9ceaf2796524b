import { ConflictError, DomainError, NotFoundError } from '../../../platform/errors.ts';

/** 409 naming the seats that another booking holds or bought (or that a concurrent request is taking). */
export class SeatsTakenError extends ConflictError {
  readonly seats: string[];

  constructor(seats: string[]) {
    const sorted = [...seats].sort();
    super(`${sorted.length === 1 ? 'this seat is' : 'these seats are'} already held or sold: ${sorted.join(', ')}`, 'seats-taken', { seats: sorted });
    this.seats = sorted;
  }
}

/** The old whole-showtime lock is held by another request (the old system's answer: try again). */
export class ShowtimeBusyError extends ConflictError {
  constructor(seats: string[]) {
    super('another booking for this showtime is in progress; try again', 'showtime-busy', { seats: [...seats].sort(), retryable: true });
  }
}

export class ShowtimeNotFoundError extends NotFoundError {
  constructor(detail = 'no showtime with this id') {
    super(detail, 'showtime-not-found');
  }
}

export class ShowtimeNotBookableError extends ConflictError {
  constructor(reason: 'cancelled' | 'started') {
    super(reason === 'cancelled' ? 'the showtime is cancelled' : 'the showtime has already started', `showtime-${reason}`);
  }
}

/** 422 naming the seat ids that are not seats of the showtime's theater. */
export class UnknownSeatsError extends DomainError {
  constructor(seats: string[]) {
    const detail = `not seats of this showtime: ${seats.join(', ')}`;
    super(422, 'unknown-seats', 'Validation failed', { detail, extra: { errors: [{ field: 'seat_ids', message: detail }], seats } });
  }
}

/** 422: the seats add up to more than any store can hold as one booking's total (or one payment's amount). */
export class BookingTotalTooLargeError extends DomainError {
  constructor(total: string, max: string) {
    const detail = `these seats add up to ${total}, more than the largest booking total (${max}); book fewer seats`;
    super(422, 'booking-total-too-large', 'Validation failed', { detail, extra: { errors: [{ field: 'seat_ids', message: detail }], total_price: total, max_total: max } });
  }
}

/** Not the caller's booking, or none at all: the same answer, so ids do not leak. */
export class BookingNotFoundError extends NotFoundError {
  constructor() {
    super('no booking with this id', 'booking-not-found');
  }
}

export class BookingNotCancellableError extends ConflictError {
  constructor(status: string) {
    super(`a booking that is ${status} cannot be cancelled`, 'booking-not-cancellable', { status });
  }
}
