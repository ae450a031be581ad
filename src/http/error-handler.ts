import type { NextFunction, Request, Response } from 'express';
import { MAX_URL_LENGTH } from './request-context';
import { AppError, statusForCode } from '../errors';
import { writeErrorAnswer } from './error-answer';
import { returnLocation } from './return-location';

/** Writes the one error shape every endpoint uses: `{ error: { code, message, requestId } }`. */
export function sendError(res: Response, err: AppError): void {
  writeErrorAnswer(res, err, res.locals.requestId ?? null);
}

/** Turns anything thrown into an AppError; 5xx details stay in the log, never in the answer. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { type?: string; status?: number };
  if (e?.type === 'entity.too.large')
    return new AppError('payload_too_large', 'The request body is too large.', { cause: err });
  if (e?.type === 'entity.parse.failed')
    return new AppError('invalid_json', 'The request body is not valid JSON.', { cause: err });
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') {
    return new AppError('unsupported_media_type', 'The request body encoding is not supported.', {
      cause: err,
    });
  }
  if (e?.status === 400) return new AppError('invalid_request', 'The request is malformed.', { cause: err });
  return new AppError('internal_error', 'Something went wrong on our side. Please retry.', { cause: err });
}

export function errorHandler(onStoreError: () => void = () => undefined) {
  return (err: unknown, _req: Request, res: Response, next: NextFunction): void => {
    const appError = toAppError(err);
    if (appError.code === 'dependency_unavailable') onStoreError();
    if (statusForCode(appError.code) >= 500) {
      res.locals.log?.error({ err: appError.cause ?? appError, code: appError.code }, 'request error');
    }
    if (res.headersSent) return next(err);
    sendError(res, appError);
  };
}

export function notFound() {
  return (_req: Request, res: Response): void =>
    sendError(res, new AppError('not_found', 'No such endpoint.'));
}

/**
 * Where a person's browser arrives by navigation (the widget's redirect to /callback, the start link),
 * an error sends it back to the frontend with a reason instead of showing a JSON page.
 */
/**
 * The error handler of the navigation routes (the browser is on a page, not a fetch): back to the
 * return URL with `?verification=failed&reason=<code>`. `when` narrows it (a start is a navigation
 * only with Sec-Fetch-Mode: navigate); otherwise the error goes on to the JSON answer.
 */
export function redirectErrors(returnUrl: string, when: (req: Request) => boolean = () => true) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (!when(req) || res.headersSent) return next(err);
    const appError = toAppError(err);
    if (statusForCode(appError.code) >= 500) {
      res.locals.log?.error({ err: appError.cause ?? appError, code: appError.code }, 'request error');
    }
    res.setHeader('Cache-Control', 'no-store');
    res
      .status(302)
      .location(returnLocation(returnUrl, { verification: 'failed', reason: appError.code }))
      .end();
  };
}

/** For `router.route(path)….all(methodNotAllowed('GET, HEAD'))`: 405 with the methods the path takes. */
export function methodNotAllowed(allow: string) {
  return (req: Request, res: Response): void => {
    res.setHeader('Allow', allow);
    // OPTIONS asks which methods there are: the answer, and nothing else (no CORS grant).
    if (req.method === 'OPTIONS') return void res.status(200).end();
    sendError(res, new AppError('method_not_allowed', `This endpoint takes ${allow}.`));
  };
}

/** Longer URLs are answered 414 (MAX_URL_LENGTH); used first by every route group. */
export function limitUrlLength(req: Request, _res: Response, next: NextFunction): void {
  if (req.url.length > MAX_URL_LENGTH)
    return next(new AppError('uri_too_long', 'The request URL is too long.'));
  next();
}
