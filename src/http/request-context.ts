import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

declare module 'express-serve-static-core' {
  interface Locals {
    requestId: string;
    log: Logger;
  }
}

const WELL_FORMED_ID = /^[A-Za-z0-9._-]{8,64}$/;

/** Longest request URL answered (else 414): room for a 4 KiB authorization code beside state, flow_id and flags (docs/finx-api.md §2). */
export const MAX_URL_LENGTH = 8192;

/** The request's id: an incoming X-Request-Id only if well-formed (so logs cannot be forged through it), else a new one. */
export function requestIdOf(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && WELL_FORMED_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Gives every request an id (an incoming X-Request-Id is kept only if well-formed, so logs cannot
 * be forged through it) and logs one line when the response is finished. The logged path never
 * carries the query string: it may hold a code or a state.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    res.locals.requestId = requestId;
    res.locals.log = logger.child({ requestId });
    res.setHeader('X-Request-Id', requestId);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
      };
      // (Polls never come here: poll-handler.ts answers them and logs them at debug level.)
      if (res.statusCode >= 500) res.locals.log.error(line, 'request failed');
      else res.locals.log.info(line, 'request');
    });
    next();
  };
}
