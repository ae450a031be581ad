import { parse } from 'cookie';
import { unsign } from 'cookie-signature';

/**
 * The session id from an express-session cookie (`s:<id>.<signature>`), read the way
 * express-session reads it: `cookie`'s parser (the first of duplicate names wins, whitespace
 * trimmed, percent-decoding), then `cookie-signature` with each secret in turn. The fast poll path
 * uses this, so both paths pick the same session for any Cookie header (or both none).
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
