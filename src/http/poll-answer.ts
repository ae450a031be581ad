import type { ServerResponse } from 'node:http';
import type { PollView } from './poll-view';

/** How a poll is answered: the state now, or "not modified" (If-None-Match matched, or a wait ended unchanged). */
export interface PollAnswerOptions {
  requestId: string;
  /** The If-None-Match the request carried. */
  ifNoneMatch: string | undefined;
  /** Seconds of `Prefer: wait` honoured; undefined when the request was not held. */
  waitedS: number | undefined;
  /** Set-Cookie of a renewed session. */
  setCookie: string | undefined;
  /** Ask the client to close the connection (shutdown). */
  close: boolean;
}

/**
 * Writes the answer to `GET /api/verification`: the security headers, X-Request-Id, no-store,
 * the ETag, Retry-After while the outcome is open, Preference-Applied when a wait was honoured,
 * then 304 when the client's ETag is current, else 200 with the body (built once per state).
 * The one place the poll's answer is shaped; every poll goes through it.
 */
export function writePollAnswer(
  res: ServerResponse,
  fixedHeaders: readonly string[],
  view: PollView,
  options: PollAnswerOptions,
): void {
  const headers = fixedHeaders.slice();
  headers.push('X-Request-Id', options.requestId, 'Cache-Control', 'no-store', 'ETag', view.etag);
  if (view.retryAfterHeader !== undefined) headers.push('Retry-After', view.retryAfterHeader);
  if (options.waitedS !== undefined) headers.push('Preference-Applied', `wait=${options.waitedS}`);
  if (options.setCookie !== undefined) headers.push('Set-Cookie', options.setCookie);
  if (options.close) headers.push('Connection', 'close');
  if (options.ifNoneMatch === view.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(view.body.length));
  res.writeHead(200, headers);
  res.end(view.body);
}

/**
 * The `wait` preference of a Prefer header (RFC 7240: comma-separated preferences, parameters after
 * `;`), in whole seconds, capped at `maxS`; undefined when absent, zero or malformed.
 */
export function preferredWaitS(prefer: string | undefined, maxS: number): number | undefined {
  if (!prefer) return undefined;
  for (const part of prefer.split(',')) {
    const token = (part.split(';')[0] ?? '').trim();
    const m = /^wait\s*=\s*"?(\d{1,6})"?$/i.exec(token);
    if (m) {
      const s = Number(m[1]);
      return s > 0 ? Math.min(s, maxS) : undefined;
    }
  }
  return undefined;
}
