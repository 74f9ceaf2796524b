import { PermanentEventError } from '../../../platform/events/consumer.ts';

/**
 * The legacy notifications table references the legacy users table: a user who exists only in the auth
 * schema (auth past NEW_ONLY) cannot have a legacy notification. Retrying cannot help, so the event is
 * dead-lettered at once (and can be replayed after switching the notification store).
 */
export class LegacyUserMissingError extends PermanentEventError {
  readonly userId: string;

  constructor(userId: string) {
    super(`user ${userId} is not in the legacy users table; the legacy notification store cannot hold notifications for them`);
    this.userId = userId;
  }
}

/** A template that cannot be rendered (unknown placeholder, malformed braces). */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/** How a channel failed: temporary (retry with back-off) or permanent (give up now). */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';
  readonly permanent: boolean;
  readonly responseCode: number | undefined;
  readonly response: string | undefined;

  constructor(message: string, options: { permanent: boolean; responseCode?: number | undefined; response?: string | undefined; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.permanent = options.permanent;
    this.responseCode = options.responseCode;
    this.response = options.response;
  }
}
