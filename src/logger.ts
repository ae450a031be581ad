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
      serializers: { err: (err: Error) => ({ type: err.name, message: stripQueries(err.message) }) },
    },
    destination,
  );
}

/** Removes query strings from any URL in a text (a query may hold a code or state). */
export function stripQueries(text: string): string {
  return text.replace(/(https?:\/\/[^\s?"']*)\?[^\s"']*/g, '$1?[redacted]');
}
