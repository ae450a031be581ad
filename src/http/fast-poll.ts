import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { SessionData, Store } from 'express-session';
import type { Logger } from 'pino';
import { dependencyUnavailable } from '../errors';
import type { VerificationReader } from '../verification/read-verification';
import { needsRenewal } from './session-middleware';

export interface FastPollDeps {
  cookieName: string;
  secrets: string[];
  store: Store;
  idleMs: number;
  absoluteMs: number;
  reader: VerificationReader;
  /** The poll rate limit for a session's owner; throws when exceeded. */
  enforcePollLimit(owner: string): Promise<void>;
  /** The headers the Express path sets on an /api answer (helmet's, captured once). */
  securityHeaders: Array<[string, string]>;
  logger: Logger;
}

type SessionRecord = SessionData & { cookie?: { expires?: string | Date | null } };

/**
 * `GET /api/verification` for the common case, ahead of the Express stack: a validly signed session
 * cookie whose session is loaded, live and needs no renewal. It does what the Express route does
 * (same headers, body, ETag/304, rate limit) without router, helmet and express-session per request,
 * which measured at 80 % of a poll's CPU. Anything else (no or bad cookie, renewal due) falls
 * through to Express, which answers it fully; errors go to the same error handlers.
 */
export function fastPoll(deps: FastPollDeps) {
  const prefix = `${deps.cookieName}=`;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'GET' || req.url !== '/api/verification') return next();
    const sid = sessionIdFrom(req.headers.cookie, prefix, deps.secrets);
    if (!sid) return next();
    serve(deps, sid, req, res).then(
      (served) => {
        if (!served) next();
      },
      (err: unknown) => {
        // Answered by the error handlers, once: going through Express would only wait on the same
        // unavailable store a second time.
        const requestId = randomUUID();
        res.locals.requestId = requestId;
        res.locals.log = deps.logger.child({ requestId });
        res.setHeader('X-Request-Id', requestId);
        for (const [name, value] of deps.securityHeaders) res.setHeader(name, value);
        next(err);
      },
    );
  };
}

async function serve(
  deps: FastPollDeps,
  sid: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const session = await new Promise<SessionRecord | null | undefined>((resolve, reject) =>
    deps.store.get(sid, (err, data) =>
      err ? reject(dependencyUnavailable(err)) : resolve(data as SessionRecord | null | undefined),
    ),
  );
  const now = Date.now();
  if (!session?.owner) return false;
  const expires = session.cookie?.expires;
  if (expires && new Date(expires).getTime() <= now) return false;
  if (needsRenewal(session, now, deps.idleMs, deps.absoluteMs)) return false;

  const [, view] = await Promise.all([
    deps.enforcePollLimit(session.owner),
    deps.reader.read(session.verificationId),
  ]);
  const requestId = randomUUID();
  for (const [name, value] of deps.securityHeaders) res.setHeader(name, value);
  res.setHeader('X-Request-Id', requestId);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('ETag', view.etag);
  if (view.retryAfterS !== undefined) res.setHeader('Retry-After', String(view.retryAfterS));
  if (req.headers['if-none-match'] === view.etag) {
    res.statusCode = 304;
    res.end();
  } else {
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(view.body));
    res.end(view.body);
  }
  if (deps.logger.isLevelEnabled('debug')) {
    deps.logger.debug(
      { requestId, method: 'GET', path: '/api/verification', status: res.statusCode, fastPath: true },
      'request',
    );
  }
  return true;
}

/** The session id from an express-session cookie (`s:<id>.<HMAC-SHA256>`), if the signature holds for a secret. */
export function sessionIdFrom(
  header: string | undefined,
  prefix: string,
  secrets: string[],
): string | undefined {
  if (!header) return undefined;
  let raw: string | undefined;
  for (const part of header.split(';')) {
    const trimmed = part.trim();
    if (trimmed.startsWith(prefix)) {
      raw = trimmed.slice(prefix.length);
      break;
    }
  }
  if (!raw) return undefined;
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  if (!value.startsWith('s:')) return undefined;
  const signed = value.slice(2);
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const sid = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  for (const secret of secrets) {
    const expected = Buffer.from(
      createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, ''),
    );
    if (expected.length === given.length && timingSafeEqual(expected, given)) return sid;
  }
  return undefined;
}
