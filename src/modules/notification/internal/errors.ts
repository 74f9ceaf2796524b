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
