import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SessionData, Store } from 'express-session';
import type { Logger } from 'pino';
import { AppError, dependencyUnavailable, statusForCode } from '../errors';
import { writeErrorAnswer } from './error-answer';
import { toAppError } from './error-handler';
import { preferredWaitS, writePollAnswer } from './poll-answer';
import type { PollView, PollViews } from './poll-view';
import { MAX_URL_LENGTH, requestIdOf } from './request-context';
import { readSignedSessionId, sessionCookieHeader, storedCookie } from './session-cookie';
import { cookieExpired, needsRenewal, pastAbsoluteLifetime, type SessionLifetimes } from './session-lifetime';
import type { FlatHeaders } from './security-headers';
import type { WaitingPolls } from './waiting-polls';

export interface PollHandlerDeps {
  cookieName: string;
  secrets: string[];
  secureCookie: boolean;
  store: Store;
  lifetimes: SessionLifetimes;
  views: PollViews;
  waiting: WaitingPolls;
  /** Upper bound of `Prefer: wait`, in seconds (POLL_MAX_WAIT_S). */
  maxWaitS: number;
  securityHeaders: FlatHeaders;
  logger: Logger;
  onStoreError: () => void;
}

type StoredSession = SessionData & { cookie?: { expires?: string | Date | null } };

const PATH = '/api/verification';

/** True for the requests the poll handler answers: GET or HEAD of the poll path, matched as Express routes match. */
export function isPoll(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const url = req.url ?? '';
  if (url === PATH) return true;
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).toLowerCase();
  return path === PATH || path === `${PATH}/`;
}

/**
 * `GET /api/verification`: the one poll implementation, plain node:http. Reads the session the
 * way express-session does (same cookie, same store), applies the lifetime rule (renewal writes the
 * session and resends the cookie, like express-session), reads the state (counted against the poll
 * limit in the same round trip) and answers; with `Prefer: wait` and a current If-None-Match it
 * holds the request until the state changes or the wait ends.
 */
export function createPollHandler(
  deps: PollHandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { logger, securityHeaders } = deps;
  const debug = () => logger.isLevelEnabled('debug');

  const loadSession = (sid: string) =>
    new Promise<StoredSession | null | undefined>((resolve, reject) =>
      deps.store.get(sid, (err, data) =>
        err ? reject(dependencyUnavailable(err)) : resolve(data as StoredSession | null | undefined),
      ),
    );
  const storeCall = (call: (cb: (err?: unknown) => void) => void) =>
    new Promise<void>((resolve, reject) =>
      call((err) => (err ? reject(dependencyUnavailable(err)) : resolve())),
    );

  const fail = (res: ServerResponse, requestId: string, started: number, err: unknown) => {
    const appError = toAppError(err);
    if (appError.code === 'dependency_unavailable') deps.onStoreError();
    const status = statusForCode(appError.code);
    if (status >= 500)
      logger.error({ requestId, err: appError.cause ?? appError, code: appError.code }, 'request error');
    if (res.headersSent || res.destroyed) return;
    for (let i = 0; i < securityHeaders.length; i += 2)
      res.setHeader(securityHeaders[i] as string, securityHeaders[i + 1] as string);
    res.setHeader('X-Request-Id', requestId);
    writeErrorAnswer(res, appError, requestId);
    logLine(requestId, started, status);
  };

  const logLine = (requestId: string, started: number, status: number) => {
    if (status < 400 && !debug()) return;
    const line = {
      requestId,
      method: 'GET',
      path: PATH,
      status,
      ms: Math.round((Date.now() - started) * 10) / 10,
    };
    if (status >= 500) logger.error(line, 'request failed');
    else if (status >= 400) logger.info(line, 'request');
    else logger.debug(line, 'request');
  };

  async function serve(req: IncomingMessage, res: ServerResponse, requestId: string, started: number) {
    const url = req.url ?? PATH;
    if (url.length > MAX_URL_LENGTH) throw new AppError('uri_too_long', 'The request URL is too long.');
    const q = url.indexOf('?');
    if (q >= 0 && new URLSearchParams(url.slice(q + 1)).size > 0)
      throw new AppError('invalid_request', 'This endpoint takes no query parameters.');

    let sid = readSignedSessionId(req.headers.cookie, deps.cookieName, deps.secrets);
    let session = sid === undefined ? undefined : await loadSession(sid);
    const now = Date.now();
    let setCookie: string | undefined;
    if (session && cookieExpired(session.cookie?.expires, now)) session = undefined;
    if (sid !== undefined && session?.owner) {
      const { idleMs, absoluteMs } = deps.lifetimes;
      if (pastAbsoluteLifetime(session, now, absoluteMs)) {
        // Past its absolute lifetime: the browser starts over with no session.
        const ended = sid;
        await storeCall((cb) => deps.store.destroy(ended, cb));
        session = undefined;
        sid = undefined;
      } else if (needsRenewal(session, now, idleMs, absoluteMs)) {
        const cookie = storedCookie(idleMs, deps.secureCookie, now);
        const renewed = { ...session, renewedAt: now, cookie };
        const id = sid;
        await storeCall((cb) => deps.store.set(id, renewed as unknown as SessionData, cb));
        setCookie = sessionCookieHeader(deps.cookieName, id, deps.secrets[0] as string, cookie);
      }
    }

    const verificationId = session?.verificationId;
    const waitS =
      verificationId === undefined ? undefined : preferredWaitS(header(req.headers.prefer), deps.maxWaitS);
    let mark = deps.waiting.mark();
    let view = await deps.views.read(verificationId, session?.owner);
    const ifNoneMatch = req.headers['if-none-match'];
    if (
      waitS !== undefined &&
      verificationId !== undefined &&
      sid !== undefined &&
      ifNoneMatch === view.etag
    ) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const waiter = {
          verificationId,
          etag: view.etag,
          session: sid,
          answer: (next: PollView | undefined) => {
            res.off('close', onClose);
            if (res.destroyed) return;
            writePollAnswer(res, securityHeaders, next ?? view, {
              requestId,
              ifNoneMatch,
              waitedS: waitS,
              setCookie,
              close: deps.waiting.isClosed,
            });
            logLine(requestId, started, res.statusCode);
          },
        };
        const onClose = () => deps.waiting.drop(waiter);
        const held = deps.waiting.hold(waiter, waitS, mark);
        if (held === 'held') {
          res.on('close', onClose);
          return;
        }
        if (held === 'full') break;
        // Changed between the read and now: read again (without counting: the request was counted).
        mark = deps.waiting.mark();
        view = await deps.views.read(verificationId);
        if (view.etag !== ifNoneMatch) break;
      }
    }
    writePollAnswer(res, securityHeaders, view, {
      requestId,
      ifNoneMatch,
      waitedS: undefined,
      setCookie,
      close: false,
    });
    logLine(requestId, started, res.statusCode);
  }

  return (req, res) => {
    const requestId = requestIdOf(req.headers['x-request-id']);
    const started = Date.now();
    serve(req, res, requestId, started).catch((err: unknown) => fail(res, requestId, started, err));
  };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}
