import type { ProviderSettings } from '../provider/provider-client';
import type { Language } from '../provider/languages';
import type { SandboxOptions } from '../sandbox/sandbox-server';
import type { EncryptionKey } from '../storage/envelope-cipher';
import type { RedisSettings } from '../storage/redis-connection';

export type { EncryptionKey, Language };

/** What the server runs with: read once at start by loadConfig (load.ts). */
export interface Config {
  port: number;
  host: string | undefined;
  publicBaseUrl: URL;
  /** Where the widget sends the browser back: PUBLIC_BASE_URL + /callback. */
  redirectUri: string;
  /** Where /callback sends the browser afterwards (path or absolute URL); never taken from a request. */
  returnUrl: string;
  allowedOrigins: string[];
  trustProxy: boolean | number | string;
  logLevel: string;
  provider: Omit<ProviderSettings, 'baseUrl'> & {
    /** Unset: the embedded sandbox is started and its URL used. */
    baseUrl: string | undefined;
    /** Unset with the embedded sandbox: the sandbox's own origin is allowed once it listens. */
    widgetAllowedOrigins: string[] | undefined;
    reportingPeriodMonths: number;
    defaultLanguage: Language;
    /** Lifetime assumed for an access token whose answer carries no usable `expires_in`. */
    defaultTokenLifetimeS: number;
  };
  redis: RedisSettings | undefined;
  keyPrefix: string;
  session: {
    secrets: string[];
    ttlS: number;
    absoluteTtlS: number;
    cookieName: string;
    secureCookie: boolean;
  };
  encryption: { current: EncryptionKey; previous: EncryptionKey[] };
  flow: { ttlS: number };
  report: { pollIntervalMs: number; readyTimeoutS: number; pathAlertAfterS: number };
  /** Polls held under `Prefer: wait`: the longest wait (0: never held) and how many one process holds. */
  poll: { maxWaitS: number; maxWaiting: number };
  /** Node's server deadlines (HTTP_TIMEOUT_MS): a request (headers and body) that trickles in longer is answered 408. */
  http: { requestTimeoutMs: number; headersTimeoutMs: number };
  retentionS: number;
  /** Ongoing access (the provider's ongoing use-case): how long it may last and how often it is kept alive. */
  ongoing: { maxAccessMs: number; keepaliveMs: number };
  tokens: { refreshSkewS: number; lockLeaseMs: number; lockWaitMs: number };
  rateLimits: {
    startsPerSessionPerHour: number;
    startsPerIpPerHour: number;
    callbacksPerIpPerMinute: number;
    pollsPerSessionPerMinute: number;
  };
  /** The lender's server-to-server API: off unless keys are set. */
  integrator: { apiKeys: string[]; perKeyPerMinute: number };
  tickets: { ttlS: number; required: boolean };
  jobs: { concurrency: number; stalledAfterMs: number };
  /** Signed webhooks to the lender's backend: off (no deliveries; the event log still fills) without a URL. */
  webhooks: {
    url: string | undefined;
    /** HMAC keys: the current secret's first, then the previous ones'. */
    keys: Buffer[];
    /** Delays before each retry, after the immediate first attempt, in ms. */
    scheduleMs: number[];
    timeoutMs: number;
    allowPrivate: boolean;
  };
  /** /metrics is served with a token, or without one outside production. */
  metrics: { enabled: boolean; token: string | undefined };
  sandbox: { port: number; host: string; publicUrl: string | undefined; options: SandboxOptions } | undefined;
  /** Things an operator should know about the chosen defaults (logged loudly at start). */
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}
