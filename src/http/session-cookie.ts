import { parse, serialize } from 'cookie';
import { sign, unsign } from 'cookie-signature';

/**
 * The session id from an express-session cookie (`s:<id>.<signature>`), read the way
 * express-session reads it: `cookie`'s parser (the first of duplicate names wins, whitespace
 * trimmed, percent-decoding), then `cookie-signature` with each secret in turn. The poll handler
 * uses this, so it and the Express session middleware pick the same session for any Cookie header.
 */
export function readSignedSessionId(
  cookieHeader: string | undefined,
  cookieName: string,
  secrets: string[],
): string | undefined {
  if (!cookieHeader) return undefined;
  const raw = parse(cookieHeader)[cookieName];
  if (!raw || !raw.startsWith('s:')) return undefined;
  for (const secret of secrets) {
    const sid = unsign(raw.slice(2), secret);
    if (sid !== false) return sid;
  }
  return undefined;
}

/** The stored `cookie` of a session, as express-session keeps it beside the data. */
export interface StoredCookie {
  originalMaxAge: number;
  expires: string;
  secure: boolean;
  httpOnly: true;
  path: '/';
  sameSite: 'lax';
}

/** The cookie settings of sessions (see session-middleware): only an id, HttpOnly, SameSite=Lax. */
export function storedCookie(maxAgeMs: number, secure: boolean, now: number): StoredCookie {
  return {
    originalMaxAge: maxAgeMs,
    expires: new Date(now + maxAgeMs).toISOString(),
    secure,
    httpOnly: true,
    path: '/',
    sameSite: 'lax',
  };
}

/** The Set-Cookie value express-session sends for `sid` with these settings (signed with the first secret). */
export function sessionCookieHeader(
  cookieName: string,
  sid: string,
  secret: string,
  cookie: StoredCookie,
): string {
  return serialize(cookieName, `s:${sign(sid, secret)}`, {
    expires: new Date(cookie.expires),
    httpOnly: true,
    path: '/',
    sameSite: 'lax',
    secure: cookie.secure,
  });
}
