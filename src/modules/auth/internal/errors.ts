import { ConflictError, UnauthorizedError } from '../../../platform/errors.ts';

export class EmailTakenError extends ConflictError {
  constructor() {
    super('an account with this email already exists', 'email-taken', { field: 'email' });
  }
}

/** The same answer whether the email exists, the password is wrong, or the account is disabled. */
export class InvalidCredentialsError extends UnauthorizedError {
  constructor() {
    super('email or password is incorrect', 'invalid-credentials');
  }
}

export class InvalidRefreshTokenError extends UnauthorizedError {
  constructor(detail = 'refresh token is invalid, expired or revoked') {
    super(detail, 'invalid-refresh-token');
  }
}
