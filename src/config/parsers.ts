import type { Config } from './types';
import { isIP } from 'node:net';

// Readers for values that need more than a schema: URLs resolved against each other, key material,
// proxy settings. Each reports problems in the loader's words and returns what it could read.

/** The specification's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const DEFAULT_WEBHOOK_SCHEDULE_S = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

/** The longest time from an event's first attempt to its last: every delay at +20 % jitter, plus a timeout per attempt. */
export function retryWindowMs(webhooks: Pick<Config['webhooks'], 'scheduleMs' | 'timeoutMs'>): number {
  const delays = webhooks.scheduleMs.reduce((sum, ms) => sum + ms, 0) * 1.2;
  return delays + (webhooks.scheduleMs.length + 1) * webhooks.timeoutMs;
}

export function decodeKey(value: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  const key = Buffer.from(value, 'base64');
  return key.length === 32 ? key : undefined;
}

export function parseUrl(value: string, name: string, problems: string[]): URL | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
    return url;
  } catch {
    problems.push(`${name}: "${value}" is not an absolute http(s) URL`);
    return undefined;
  }
}

/**
 * RETURN_URL resolved against the public origin, the way a browser resolves a Location header: a
 * path must stay on this origin (`//host`, `/\\host` and their percent-encoded forms do not), and an
 * absolute URL must be on this origin or one of ALLOWED_ORIGINS. Returns the value to redirect to.
 */
export function readReturnUrl(
  value: string,
  base: URL,
  allowedOrigins: string[],
  problems: string[],
): string {
  let decoded = value;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    problems.push(`RETURN_URL: "${value}" is not a valid URL`);
    return '/';
  }
  const origins = [base.origin, ...allowedOrigins];
  for (const candidate of new Set([value, decoded])) {
    let url: URL;
    try {
      url = new URL(candidate, base);
    } catch {
      problems.push(`RETURN_URL: "${value}" is not a valid URL`);
      return '/';
    }
    if (!['http:', 'https:'].includes(url.protocol)) {
      problems.push('RETURN_URL: must be a path starting with "/" or an http(s) URL');
      return '/';
    }
    if (!origins.includes(url.origin)) {
      problems.push(
        `RETURN_URL: "${value}" leads to ${url.origin}, which is neither PUBLIC_BASE_URL's origin nor in ALLOWED_ORIGINS`,
      );
      return '/';
    }
  }
  const resolved = new URL(value, base);
  return resolved.origin === base.origin && !/^[a-z][a-z0-9+.-]*:/i.test(value)
    ? resolved.pathname + resolved.search + resolved.hash
    : resolved.toString();
}

export function withTrailingSlash(url: URL): URL {
  const copy = new URL(url.toString());
  if (!copy.pathname.endsWith('/')) copy.pathname += '/';
  return copy;
}

/** Express' `trust proxy`: true/false, a hop count, or a list of addresses, subnets and the names Express knows. */
export function parseTrustProxy(value: string | undefined, problems: string[]): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  const named = ['loopback', 'linklocal', 'uniquelocal'];
  const valid = value.split(',').every((raw) => {
    const entry = raw.trim();
    const [address = '', bits, ...rest] = entry.split('/');
    return (
      named.includes(entry) ||
      (rest.length === 0 && isIP(address) !== 0 && (bits === undefined || /^\d{1,3}$/.test(bits)))
    );
  });
  if (!valid) {
    problems.push(
      `TRUST_PROXY: "${value}" is not true, false, a hop count, or a list of IPs/subnets (or loopback, linklocal, uniquelocal)`,
    );
  }
  return value;
}
