import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from '../errors';

/** What a rule may count by: the session's owner, the client address, the integrator's API key. */
export interface RateSource {
  session?: { owner?: string | undefined } | undefined;
  ip?: string | undefined;
  apiKeyId?: string | undefined;
}

export interface RateRule {
  scope: string;
  limit: number;
  windowMs: number;
  /** What is counted: a session, an IP. Undefined: the rule does not apply to this request. */
  subject(source: RateSource): string | undefined;
}

/**
 * Counts one more use of `subject` in `scope`'s fixed window and returns the count and the window's
 * remaining time. Built in the composition root on the shared store, so the limits hold across instances.
 */
export type RateCounter = (
  scope: string,
  subject: string,
  windowMs: number,
) => Promise<{ count: number; resetInMs: number }>;

/** A set of rules: `hit` counts a request against each rule that applies and throws `rate_limited` past one. */
export interface RateLimiter {
  hit(source: RateSource): Promise<void>;
}

export function rateLimiter(count: RateCounter, rules: readonly RateRule[]): RateLimiter {
  return {
    async hit(source) {
      for (const rule of rules) {
        const subject = rule.subject(source);
        if (subject === undefined) continue;
        const { count: used, resetInMs } = await count(rule.scope, subject, rule.windowMs);
        if (used > rule.limit) {
          throw new AppError('rate_limited', 'Too many requests. Please wait and retry.', {
            retryAfterS: Math.max(1, Math.ceil(resetInMs / 1000)),
          });
        }
      }
    },
  };
}

/** Hashed: the owner binding itself must not appear in key names. */
export const bySession = (req: RateSource): string | undefined =>
  req.session?.owner
    ? createHash('sha256').update(req.session.owner).digest('base64url').slice(0, 22)
    : undefined;
export const byIp = (req: RateSource): string => clientAddressKey(req.ip);

/**
 * The rate-limit subject for a client address. One IPv6 host usually holds a whole /64, so that is
 * the unit; `::ffff:a.b.c.d` is the IPv4 address it carries. Anything that is not an address (a
 * forged X-Forwarded-For entry under a permissive TRUST_PROXY) becomes a fixed-length hash, so key
 * names stay bounded.
 */
export function clientAddressKey(ip: string | undefined): string {
  if (ip === undefined || ip === '') return 'unknown';
  const kind = isIP(ip);
  if (kind === 4) return ip;
  if (kind === 6) {
    const address = ipaddr.IPv6.parse(ip);
    if (address.isIPv4MappedAddress()) return address.toIPv4Address().toString();
    return `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toNormalizedString()}/64`).toString()}/64`;
  }
  return `h:${createHash('sha256').update(ip).digest('base64url').slice(0, 22)}`;
}

/** Counts only requests that carry a session (an owner): a person with a flow in progress. */
export const byIpWithSession = (req: RateSource): string | undefined =>
  req.session?.owner ? clientAddressKey(req.ip) : undefined;
/** Counts only requests without a session, so cookie-less floods cannot use up the budget of those with one. */
export const byIpWithoutSession = (req: RateSource): string | undefined =>
  req.session?.owner ? undefined : clientAddressKey(req.ip);
