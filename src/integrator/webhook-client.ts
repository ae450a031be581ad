import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, request } from 'undici';

export type PostOutcome =
  | { kind: 'response'; status: number; retryAfterMs: number | undefined }
  | { kind: 'timeout' }
  | { kind: 'refused_address'; message: string }
  | { kind: 'network_error'; message: string };

export interface WebhookClient {
  post(url: string, headers: Record<string, string>, body: Buffer): Promise<PostOutcome>;
  close(): Promise<void>;
}

export interface WebhookClientSettings {
  timeoutMs: number;
  /** Allow loopback, private, link-local and metadata addresses (development, tests, WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
}

class RefusedAddressError extends Error {
  readonly code = 'EWEBHOOKADDRESS';
}

/** Only globally routable unicast addresses; everything ipaddr.js files elsewhere (loopback, private, link-local incl. 169.254.169.254, unique-local, CGNAT, reserved, 6to4/teredo tunnels…) is refused. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() === 'unicast';
}

/**
 * A DNS lookup that refuses non-public answers: the check happens on the addresses the socket will
 * actually connect to, at connect time, so a name that later resolves elsewhere (DNS rebinding) is
 * caught too.
 */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => !isPublicAddress(a.address));
    if (bad || list.length === 0) {
      return callback(
        new RefusedAddressError(`${hostname} resolves to a non-public address (${bad?.address ?? 'none'})`),
        '',
        0,
      );
    }
    if (options.all) return (callback as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    const first = list[0] as dns.LookupAddress;
    callback(null, first.address, first.family);
  });
};

/**
 * The delivery's HTTP client: one keep-alive pool, a deadline per attempt, no redirects followed
 * (a 3xx is an answer, and so a failure), and the address check at connect time unless private
 * addresses are allowed.
 */
export function createWebhookClient(settings: WebhookClientSettings): WebhookClient {
  const agent = new Agent({
    connections: 64,
    connect: {
      timeout: settings.timeoutMs,
      ...(settings.allowPrivate ? {} : { lookup: guardedLookup }),
    },
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
  });

  return {
    async post(url, headers, body) {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      // An address literal never goes through the lookup.
      if (!settings.allowPrivate && isIP(host) !== 0 && !isPublicAddress(host))
        return { kind: 'refused_address', message: `${host} is not a public address` };
      const signal = AbortSignal.timeout(settings.timeoutMs);
      try {
        const res = await request(url, { method: 'POST', headers, body, dispatcher: agent, signal });
        // Drain a little of the answer so the connection can be reused; the content does not matter.
        await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
        return {
          kind: 'response',
          status: res.statusCode,
          retryAfterMs: parseRetryAfter(res.headers['retry-after']),
        };
      } catch (err) {
        const e = err as Error & { code?: string; cause?: { code?: string; message?: string } };
        if (
          e instanceof RefusedAddressError ||
          e.cause instanceof RefusedAddressError ||
          e.code === 'EWEBHOOKADDRESS'
        )
          return { kind: 'refused_address', message: (e.cause as Error | undefined)?.message ?? e.message };
        if (
          signal.aborted ||
          e.name === 'TimeoutError' ||
          e.name === 'AbortError' ||
          /Timeout/.test(e.code ?? '') ||
          /Timeout/.test(e.name)
        )
          return { kind: 'timeout' };
        return { kind: 'network_error', message: e.code ?? e.message };
      }
    },
    close: () => agent.close(),
  };
}

/** Retry-After as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  if (/^\d+$/.test(raw.trim())) return Number(raw.trim()) * 1000;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
