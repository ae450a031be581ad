import pino, { type DestinationStream, type Logger } from 'pino';

/** Paths whose values are secrets or personal data; pino replaces them before a line is written. */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  // The OAuth code where it travels (a callback's query or body); error codes stay readable.
  'query.code',
  'body.code',
  'params.code',
  '*.query.code',
  '*.body.code',
  '*.params.code',
  '*.authorizationCode',
  '*.state',
  '*.iban',
  '*.clientSecret',
  '*.report',
  'accessToken',
  'refreshToken',
  'authorizationCode',
  'state',
  'iban',
  'report',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'income-bff' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // Error messages can carry URLs with query strings; keep them but strip the query.
      serializers: { err: serializeError },
    },
    destination,
  );
}

interface SerializedError {
  type: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError | string;
}

/**
 * An error as a log line needs it to be debugged: type, message, stack and the `cause` chain (up
 * to 3 deep). Only these fields: other own properties of provider or library errors may hold a
 * response body or a token. Queries are stripped everywhere, since a message can carry a URL.
 */
export function serializeError(err: unknown, depth = 0): SerializedError | string {
  if (!(err instanceof Error)) {
    // Call sites that log `{ err: { message } }` on purpose (a message without a stack).
    const message = (err as { message?: unknown } | null)?.message;
    if (typeof message === 'string') return { type: 'Error', message: stripQueries(message) };
    return stripQueries(String(err)).slice(0, 500);
  }
  const out: SerializedError = { type: err.name, message: stripQueries(err.message) };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (err.stack) out.stack = stripQueries(err.stack);
  if (err.cause !== undefined && depth < 3) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** Removes query strings from any URL in a text (a query may hold a code or state). */
export function stripQueries(text: string): string {
  return text.replace(/(https?:\/\/[^\s?"']*)\?[^\s"']*/g, '$1?[redacted]');
}
