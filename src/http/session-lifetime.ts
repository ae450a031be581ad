import type { SessionData } from 'express-session';

/**
 * The session lifetime rule, used by the Express session middleware and the poll handler alike:
 * an idle lifetime renewed by activity at most once per quarter of it, and an absolute lifetime
 * past which the session ends however active it is.
 */
export interface SessionLifetimes {
  idleMs: number;
  absoluteMs: number;
}

type Lifetimes = Partial<Pick<SessionData, 'createdAt' | 'renewedAt'>>;

export function pastAbsoluteLifetime(data: Lifetimes, now: number, absoluteMs: number): boolean {
  return now - (data.createdAt ?? now) > absoluteMs;
}

/** True when this request must write the session: to end it (absolute lifetime) or to renew its idle lifetime. */
export function needsRenewal(data: Lifetimes, now: number, idleMs: number, absoluteMs: number): boolean {
  return (
    pastAbsoluteLifetime(data, now, absoluteMs) || now - (data.renewedAt ?? data.createdAt ?? 0) > idleMs / 4
  );
}

/** The stored cookie's expiry has passed (a store that keeps entries past their TTL must not revive them). */
export function cookieExpired(expires: string | Date | null | undefined, now: number): boolean {
  return !!expires && new Date(expires).getTime() <= now;
}
