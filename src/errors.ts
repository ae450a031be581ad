/**
 * The error contract: every failure the server reports has a stable snake_case `code`.
 * The HTTP status for each code lives in one table (`statusForCode`) so the whole contract is in one file.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterS: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterS?: number; details?: Record<string, unknown> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.retryAfterS = options.retryAfterS;
    this.details = options.details;
  }
}

const statusByCode = {
  invalid_request: 400,
  invalid_iban: 400,
  invalid_language: 400,
  invalid_json: 400,
  invalid_callback: 400,
  invalid_state: 400,
  unsupported_media_type: 415,
  payload_too_large: 413,
  headers_too_large: 431,
  uri_too_long: 414,
  ticket_invalid: 400,
  unauthorized: 401,
  forbidden_origin: 403,
  cross_site_request: 403,
  ticket_required: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  state_already_used: 409,
  verification_not_pending: 409,
  report_not_ready: 409,
  idempotency_conflict: 409,
  delivery_pending: 409,
  webhooks_disabled: 409,
  access_not_ongoing: 409,
  ticket_expired: 410,
  ticket_used: 410,
  gone: 410,
  access_lost: 410,
  rate_limited: 429,
  widget_origin_not_allowed: 502,
  provider_error: 502,
  provider_timeout: 504,
  provider_unavailable: 503,
  dependency_unavailable: 503,
  refresh_in_progress: 503,
  not_ready: 503,
  internal_error: 500,
} as const;

export type ErrorCode = keyof typeof statusByCode;
export const ERROR_CODES = Object.keys(statusByCode) as ErrorCode[];

/**
 * Codes the demo page never meets on the routes it calls, so it has no text for them: the
 * integrator API and webhook admin (the lender's backend), /readyz (operations), and routing
 * answers for paths or methods the page does not use. Every other code may reach the page.
 */
export const NOT_SENT_TO_THE_PAGE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'unauthorized',
  'report_not_ready',
  'idempotency_conflict',
  'delivery_pending',
  'webhooks_disabled',
  'gone',
  'access_not_ongoing',
  'not_ready',
  'not_found',
  'method_not_allowed',
]);

export function statusForCode(code: ErrorCode): number {
  return statusByCode[code];
}

/** Redis or another store could not be reached in time. */
export function dependencyUnavailable(cause: unknown): AppError {
  return new AppError('dependency_unavailable', 'A backing service is unavailable. Please retry shortly.', {
    cause,
    retryAfterS: 2,
  });
}
