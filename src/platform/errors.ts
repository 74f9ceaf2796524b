import type { z } from 'zod';

/** A stable problem type: `urn:boxoffice:problem:<slug>` (RFC 9457 `type`). See docs/problems.md. */
export const problemType = (slug: string): string => `urn:boxoffice:problem:${slug}`;

export interface FieldProblem {
  field: string;
  message: string;
}

export interface DomainErrorOptions {
  detail?: string;
  /** extra members of the problem body (e.g. `seats`, `errors`) */
  extra?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
}

/**
 * Every error a module means to show a client. The error middleware turns it into
 * `application/problem+json`; anything that is not a DomainError becomes an opaque 500.
 */
export class DomainError extends Error {
  readonly detail: string | undefined;
  readonly extra: Record<string, unknown>;
  readonly headers: Record<string, string>;

  readonly status: number;
  readonly slug: string;
  readonly title: string;

  constructor(status: number, slug: string, title: string, options: DomainErrorOptions = {}) {
    super(options.detail ?? title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.slug = slug;
    this.title = title;
    this.detail = options.detail;
    this.extra = options.extra ?? {};
    this.headers = options.headers ?? {};
  }

  get type(): string {
    return problemType(this.slug);
  }
}

export class BadRequestError extends DomainError {
  constructor(detail: string, slug = 'bad-request') {
    super(400, slug, 'Bad request', { detail });
  }
}

export class ValidationError extends DomainError {
  readonly errors: FieldProblem[];

  constructor(errors: FieldProblem[], detail?: string) {
    super(422, 'validation-error', 'Validation failed', {
      detail: detail ?? errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      extra: { errors },
    });
    this.errors = errors;
  }

  static fromZod(error: z.ZodError, prefix?: string): ValidationError {
    return new ValidationError(
      error.issues.map((issue) => {
        const path = issue.path.map(String).join('.');
        const field = [prefix, path].filter(Boolean).join('.') || prefix || '(body)';
        return { field, message: issue.message };
      }),
    );
  }
}

export class UnauthorizedError extends DomainError {
  constructor(detail = 'authentication required', slug = 'unauthorized', extra: Record<string, unknown> = {}) {
    super(401, slug, 'Unauthorized', {
      detail,
      extra,
      headers: { 'WWW-Authenticate': `Bearer error="invalid_token"` },
    });
  }
}

export class ForbiddenError extends DomainError {
  constructor(detail = 'you may not do this') {
    super(403, 'forbidden', 'Forbidden', { detail });
  }
}

export class NotFoundError extends DomainError {
  constructor(detail = 'not found', slug = 'not-found') {
    super(404, slug, 'Not found', { detail });
  }
}

export class ConflictError extends DomainError {
  constructor(detail: string, slug = 'conflict', extra: Record<string, unknown> = {}) {
    super(409, slug, 'Conflict', { detail, extra });
  }
}

export class TooManyRequestsError extends DomainError {
  constructor(detail: string, retryAfterSeconds: number) {
    const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, 'too-many-requests', 'Too many requests', {
      detail,
      extra: { retry_after: retryAfter },
      headers: { 'Retry-After': String(retryAfter) },
    });
  }
}

export class ServiceUnavailableError extends DomainError {
  constructor(detail: string, extra: Record<string, unknown> = {}) {
    super(503, 'service-unavailable', 'Service unavailable', { detail, extra });
  }
}

/** The database cannot be reached: a client should retry later, nothing about its request was wrong. */
export class DatabaseUnavailableError extends DomainError {
  constructor(retryAfterSeconds = 5) {
    super(503, 'unavailable', 'Service unavailable', {
      detail: 'the database is not reachable right now; try again shortly',
      extra: { retry_after: retryAfterSeconds },
      headers: { 'Retry-After': String(retryAfterSeconds) },
    });
  }
}
