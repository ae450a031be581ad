import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { SessionData, Store } from 'express-session';
import type { Logger } from 'pino';
import { dependencyUnavailable, statusForCode } from '../errors';
import { toAppError } from './error-handler';
import type { VerificationReader } from '../verification/read-verification';
import { readSignedSessionId } from './session-cookie';
import { needsRenewal } from './session-middleware';

export interface FastPollDeps {
  cookieName: string;
  secrets: string[];
  store: Store;
  idleMs: number;
  absoluteMs: number;
  reader: VerificationReader;
  /** The headers the Express path sets on an /api answer (helmet's, captured once). */
  securityHeaders: Array<[string, string]>;
  logger: Logger;
}

type SessionRecord = SessionData & { cookie?: { expires?: string | Date | null } };

/**
 * `GET /api/verification` for the common case, in front of Express: a validly signed session cookie
 * whose session is loaded, live and needs no renewal. It does what the Express route does (same
 * headers, body, ETag/304, rate limit) without router, helmet and express-session per request, which
 * measured at 80 % of a poll's CPU. Anything else (no or bad cookie, renewal due) goes to `express`,
 * which answers it fully; errors are answered here in the same shape (going through Express would
 * only wait on the same unavailable store a second time).
 */
export function withFastPoll(deps: FastPollDeps, express: RequestListener): RequestListener {
  // Validated once; writeHead with a flat list skips the per-header map of setHeader.
  const fixedHeaders = deps.securityHeaders.flat();
  return (req, res) => {
    if (req.method !== 'GET' || req.url !== '/api/verification') return express(req, res);
    const sid = readSignedSessionId(req.headers.cookie, deps.cookieName, deps.secrets);
    if (!sid) return express(req, res);
    const requestId = randomUUID();
    serve(deps, sid, req, res, requestId, fixedHeaders).then(
      (served) => {
        if (!served) express(req, res);
      },
      (err: unknown) => {
        const appError = toAppError(err);
        const status = statusForCode(appError.code);
        if (status >= 500)
          deps.logger.error(
            { requestId, err: appError.cause ?? appError, code: appError.code },
            'request error',
          );
        const body = JSON.stringify({ error: { code: appError.code, message: appError.message, requestId } });
        res.writeHead(status, [
          ...fixedHeaders,
          'X-Request-Id',
          requestId,
          'Cache-Control',
          'no-store',
          ...(appError.retryAfterS === undefined ? [] : ['Retry-After', String(appError.retryAfterS)]),
          'Content-Type',
          'application/json; charset=utf-8',
          'Content-Length',
          String(Buffer.byteLength(body)),
        ]);
        res.end(body);
      },
    );
  };
}

async function serve(
  deps: FastPollDeps,
  sid: string,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  fixedHeaders: string[],
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

  const view = await deps.reader.read(session.verificationId, session.owner);
  const headers = [
    ...fixedHeaders,
    'X-Request-Id',
    requestId,
    'Cache-Control',
    'no-store',
    'ETag',
    view.etag,
  ];
  if (view.retryAfterS !== undefined) headers.push('Retry-After', String(view.retryAfterS));
  if (req.headers['if-none-match'] === view.etag) {
    res.writeHead(304, headers);
    res.end();
  } else {
    headers.push(
      'Content-Type',
      'application/json; charset=utf-8',
      'Content-Length',
      String(Buffer.byteLength(view.body)),
    );
    res.writeHead(200, headers);
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
