import type { NextFunction, Request, Response } from 'express';
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
export function browserErrorRedirect(returnUrl: string) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    // As the router matches it (case-insensitive, trailing slash optional): /Callback/ runs the same handler.
    const path = req.path.toLowerCase().replace(/(.)\/$/, '$1');
    const navigation =
      (req.method === 'GET' || req.method === 'HEAD') &&
      (path === '/callback' || (path === '/verification/start' && req.get('sec-fetch-mode') === 'navigate'));
    if (!navigation || res.headersSent) return next(err);
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

/** A known path asked with a method it does not take: 405 with the methods it does take. */
export function methodNotAllowed(allowed: Record<string, string[]>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const methods = allowed[req.path.toLowerCase().replace(/\/+$/, '') || '/'];
    if (!methods || methods.includes(req.method)) return next();
    res.setHeader('Allow', methods.join(', '));
    sendError(res, new AppError('method_not_allowed', `This endpoint takes ${methods.join(', ')}.`));
  };
}
