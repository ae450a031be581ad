import { createHmac, randomBytes } from 'node:crypto';
import type { RedisClientType } from 'redis';
import type { EnvelopeCipher } from '../src/storage/envelope-cipher';
import type { StorageKeys } from '../src/storage/storage-keys';

/** express-session's cookie value: `s:` + cookie-signature's sign(sid, secret), URI-encoded. */
export function signedSessionCookie(cookieName: string, sid: string, secret: string): string {
  const signature = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return `${cookieName}=${encodeURIComponent(`s:${sid}.${signature}`)}`;
}

/** The session id inside a signed `name=s%3A<sid>.<sig>` cookie. */
export function sessionIdFromCookie(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  if (!value.startsWith('s:')) throw new Error(`not a signed session cookie: ${cookie}`);
  return value.slice(2, value.lastIndexOf('.'));
}

export interface VerificationRecords {
  sid: string;
  verificationId: string;
  session: string;
  meta: string;
  /** Sealed; the ciphertext is bound to the key name. Null once a one-time verification's report is stored (its tokens are deleted then). */
  tokens: string | null;
  report: string;
  ttlMs: { session: number; meta: number; tokens: number; report: number };
  keyNames: { session: string; meta: string; tokens: string; report: string };
}

/** Reads what the server stored for the session behind `cookie`: session, meta, tokens (if still kept) and report. */
export async function readVerification(
  redis: RedisClientType,
  keys: StorageKeys,
  cookie: string,
): Promise<VerificationRecords> {
  const sid = sessionIdFromCookie(cookie);
  const sessionKey = keys.sessionPrefix + sid;
  const session = await redis.get(sessionKey);
  if (!session) throw new Error(`no session stored at ${sessionKey}`);
  const verificationId = (JSON.parse(session) as { verificationId?: string }).verificationId;
  if (!verificationId) throw new Error('the session has no verification');
  const keyNames = {
    session: sessionKey,
    meta: keys.meta(verificationId),
    tokens: keys.tokens(verificationId),
    report: keys.report(verificationId),
  };
  const [meta, tokens, report] = await Promise.all([
    redis.get(keyNames.meta),
    redis.get(keyNames.tokens),
    redis.get(keyNames.report),
  ]);
  if (!meta || !report) throw new Error(`verification ${verificationId} is incomplete in Redis`);
  const ttl = async (key: string) => Math.max(60_000, await redis.pTTL(key));
  return {
    sid,
    verificationId,
    session,
    meta,
    tokens,
    report,
    ttlMs: {
      session: await ttl(keyNames.session),
      meta: await ttl(keyNames.meta),
      tokens: tokens === null ? 0 : await ttl(keyNames.tokens),
      report: await ttl(keyNames.report),
    },
    keyNames,
  };
}

/**
 * Writes `count` copies of a ready verification under new ids, in the server's own format: the
 * session JSON pointing at the new id, the meta as is, tokens and report re-sealed for their new
 * key names (the key name is the cipher's additional data). Returns one signed cookie per copy.
 */
export async function cloneVerifications(
  redis: RedisClientType,
  keys: StorageKeys,
  cipher: EnvelopeCipher,
  template: VerificationRecords,
  count: number,
  cookieName: string,
  sessionSecret: string,
): Promise<string[]> {
  const session = JSON.parse(template.session) as Record<string, unknown>;
  const tokens = template.tokens === null ? null : cipher.open(template.tokens, template.keyNames.tokens);
  const report = cipher.open(template.report, template.keyNames.report);
  const cookies: string[] = [];
  const BATCH = 500;
  for (let from = 0; from < count; from += BATCH) {
    const writes: Promise<unknown>[] = [];
    for (let i = from; i < Math.min(count, from + BATCH); i++) {
      // The lengths express-session and the server use: uid-safe(24) and randomBytes(16).
      const sid = randomBytes(24).toString('base64url');
      const id = randomBytes(16).toString('base64url');
      const owner = randomBytes(16).toString('base64url');
      const px = (ms: number) => ({ expiration: { type: 'PX' as const, value: ms } });
      writes.push(
        redis.set(
          keys.sessionPrefix + sid,
          JSON.stringify({ ...session, owner, verificationId: id }),
          px(template.ttlMs.session),
        ),
        redis.set(keys.meta(id), template.meta, px(template.ttlMs.meta)),
        redis.set(keys.report(id), cipher.seal(report, keys.report(id)), px(template.ttlMs.report)),
      );
      if (tokens !== null)
        writes.push(
          redis.set(keys.tokens(id), cipher.seal(tokens, keys.tokens(id)), px(template.ttlMs.tokens)),
        );
      cookies.push(signedSessionCookie(cookieName, sid, sessionSecret));
    }
    await Promise.all(writes);
  }
  return cookies;
}

/** MEMORY USAGE of each of the verification's keys, in bytes. */
export async function memoryUsage(
  redis: RedisClientType,
  template: VerificationRecords,
): Promise<Record<keyof VerificationRecords['keyNames'], number>> {
  const usage = async (key: string) => Number(await redis.sendCommand(['MEMORY', 'USAGE', key]));
  return {
    session: await usage(template.keyNames.session),
    meta: await usage(template.keyNames.meta),
    tokens: template.tokens === null ? 0 : await usage(template.keyNames.tokens),
    report: await usage(template.keyNames.report),
  };
}
