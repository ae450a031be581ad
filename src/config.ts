import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { ProviderSettings } from './provider/provider-client';
import type { SandboxOptions } from './sandbox/sandbox-server';
import type { RedisSettings } from './storage/redis-connection';
import { isPublicAddress } from './integrator/webhook-client';
import { decodeWebhookSecret } from './integrator/webhook-signature';
import {
  SANDBOX_DEV_CLIENT_ID,
  SANDBOX_DEV_CLIENT_SECRET,
  sandboxEnvSchema,
  sandboxOptionsFromEnv,
} from './sandbox/sandbox-config';

/** The widget hosts finX has used over the years (finx-api.md); used when FINX_API_URL is set and WIDGET_ALLOWED_ORIGINS is not. */
const KNOWN_WIDGET_ORIGINS = [
  'https://widget.qwist.cloud',
  'https://finx.qwist.cloud',
  'https://finx.finleap.cloud',
  'https://ui-next.regshield-p.qwist.cloud',
];
/**
 * Secrets this repository ships for development (docker-compose.yml defaults, the sandbox's
 * credentials). Long enough to pass the length checks, so production refuses them by name.
 */
const SHIPPED_DEV_SECRETS = new Set([
  'dev-only-insecure-session-secret-change-me',
  'devOnlyInsecureTokenEncryptionKeyChangeMe00=',
  'dev-sandbox-secret-not-for-production',
  SANDBOX_DEV_CLIENT_SECRET,
]);
/** The report path finX documents; `{id}` is the flow id. */
export const DEFAULT_REPORT_PATH = '/rest/income-reports/{id}';
const LANGUAGES = ['de', 'en', 'es', 'fr', 'ar'] as const;
export type Language = (typeof LANGUAGES)[number];
export const languages: readonly Language[] = LANGUAGES;

export interface EncryptionKey {
  id: string;
  key: Buffer;
}

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

const int = (min: number, def: number) => z.coerce.number().int().min(min).default(def);
const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const list = optionalString.transform((v) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
);

const envSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    PORT: int(0, 3000).pipe(z.number().max(65535)),
    HOST: optionalString,
    PUBLIC_BASE_URL: optionalString,
    RETURN_URL: optionalString,
    ALLOWED_ORIGINS: list,
    TRUST_PROXY: optionalString,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    FINX_API_URL: optionalString,
    FINX_CLIENT_ID: optionalString,
    FINX_CLIENT_SECRET: optionalString,
    WIDGET_ALLOWED_ORIGINS: list,
    FINX_CONNECT_TIMEOUT_MS: int(1, 3000),
    FINX_HEADERS_TIMEOUT_MS: int(1, 10000),
    FINX_BODY_TIMEOUT_MS: int(1, 10000),
    FINX_REQUEST_TIMEOUT_MS: int(1, 15000),
    FINX_MAX_CONNECTIONS: int(1, 50),
    FINX_REVOKE_PATH: z
      .string()
      .regex(/^\/[A-Za-z0-9/_-]*$/, 'a path starting with "/", e.g. /auth/revoke')
      .optional(),
    FINX_REPORT_PATH: z
      .string()
      .regex(
        /^\/(?:[A-Za-z0-9/_.-]|\{id\})*(?:\?(?:[A-Za-z0-9_.=&-]|\{id\})*)?$/,
        'a path starting with "/", with {id} where the flow id goes, e.g. /rest/income-reports/{id}',
      )
      .default(DEFAULT_REPORT_PATH),
    FINX_TOKEN_LIFETIME_S: int(10, 300),
    REPORTING_PERIOD_MONTHS: int(4, 12),
    DEFAULT_LANGUAGE: z.enum(LANGUAGES).default('en'),
    REDIS_URL: optionalString,
    REDIS_CLUSTER_NODES: list,
    REDIS_COMMAND_TIMEOUT_MS: int(1, 2000),
    REDIS_KEY_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, ":", "_" or "-" (1 to 64)')
      .default('bff:'),
    SESSION_SECRET: list,
    SESSION_TTL_S: int(1, 86400),
    SESSION_ABSOLUTE_TTL_S: int(1, 7 * 86400),
    TOKEN_ENCRYPTION_KEY: optionalString,
    TOKEN_ENCRYPTION_KEY_ID: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,16}$/, 'letters, digits, "_" or "-" (1 to 16)')
      .default('k1'),
    TOKEN_ENCRYPTION_PREVIOUS_KEYS: list,
    FLOW_TTL_S: int(10, 1800),
    REPORT_POLL_INTERVAL_MS: int(100, 2000),
    // Below the usual 60 s idle timeout of proxies and load balancers in front.
    POLL_MAX_WAIT_S: z.coerce.number().int().min(0).max(55).default(25),
    POLL_MAX_WAITING: int(0, 10_000),
    REPORT_READY_TIMEOUT_S: int(1, 600),
    REPORT_PATH_ALERT_S: int(1, 300),
    HTTP_TIMEOUT_MS: int(1000, 30000),
    RETENTION_S: int(60, 86400),
    REFRESH_SKEW_S: int(0, 60),
    REFRESH_LOCK_LEASE_MS: int(100, 5000),
    REFRESH_LOCK_WAIT_MS: int(100, 10000),
    METRICS_TOKEN: optionalString,
    RATE_LIMIT_STARTS_PER_SESSION_PER_HOUR: int(1, 20),
    RATE_LIMIT_STARTS_PER_IP_PER_HOUR: int(1, 200),
    RATE_LIMIT_CALLBACKS_PER_IP_PER_MINUTE: int(1, 60),
    RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE: int(1, 600),
    INTEGRATOR_API_KEYS: list,
    RATE_LIMIT_INTEGRATOR_PER_KEY_PER_MINUTE: int(1, 600),
    START_TICKET_TTL_S: int(60, 3600),
    REQUIRE_START_TICKET: z.enum(['true', 'false']).default('false'),
    JOBS_CONCURRENCY: int(1, 50),
    JOBS_STALLED_AFTER_MS: int(1000, 30000),
    WEBHOOK_URL: optionalString,
    WEBHOOK_SECRET: optionalString,
    WEBHOOK_PREVIOUS_SECRETS: list,
    WEBHOOK_RETRY_SCHEDULE_S: list,
    WEBHOOK_TIMEOUT_MS: int(100, 15000),
    WEBHOOK_ALLOW_PRIVATE: z.enum(['true', 'false']).optional(),
  })
  .extend(sandboxEnvSchema.shape);

type Env = Record<string, string | undefined>;

/**
 * Reads the whole configuration from `env` once. Lists every problem at once in a ConfigError.
 * With nothing set it gives the embedded development setup: sandbox provider, in-process store.
 */
export function loadConfig(env: Env): Config {
  // An empty variable counts as unset, as in a shell or compose's `${VAR:-}`.
  const nonBlank = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''),
  );
  const parsed = envSchema.safeParse(nonBlank);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`));
  }
  const e = parsed.data;
  const problems: string[] = [];
  const warnings: string[] = [];
  const production = e.NODE_ENV === 'production';

  const publicBaseUrl = parseUrl(
    e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT || 3000}`,
    'PUBLIC_BASE_URL',
    problems,
  );
  if (publicBaseUrl && (publicBaseUrl.search || publicBaseUrl.hash)) {
    problems.push('PUBLIC_BASE_URL: must not contain a query or fragment');
  }
  const https = publicBaseUrl?.protocol === 'https:';
  if (production && !https) problems.push('PUBLIC_BASE_URL: must be an https URL when NODE_ENV=production');

  const allowedOrigins = (e.ALLOWED_ORIGINS ?? (publicBaseUrl ? [publicBaseUrl.origin] : [])).map((o) => {
    const u = parseUrl(o, 'ALLOWED_ORIGINS', problems);
    return u ? u.origin : o;
  });
  const returnUrl = publicBaseUrl
    ? readReturnUrl(e.RETURN_URL ?? '/', publicBaseUrl, allowedOrigins, problems)
    : '/';

  const embedded = e.FINX_API_URL === undefined;
  if (e.FINX_API_URL !== undefined) parseUrl(e.FINX_API_URL, 'FINX_API_URL', problems);
  if (embedded && production)
    problems.push('FINX_API_URL: required when NODE_ENV=production (the sandbox is for development)');
  if (production && e.FINX_API_URL !== undefined && !/^https:/i.test(e.FINX_API_URL)) {
    problems.push(
      'FINX_API_URL: must be https when NODE_ENV=production (the client secret travels with every call)',
    );
  }
  if ((!embedded || production) && (!e.FINX_CLIENT_ID || !e.FINX_CLIENT_SECRET)) {
    problems.push('FINX_CLIENT_ID and FINX_CLIENT_SECRET: required when FINX_API_URL is set');
  }
  const clientId = e.FINX_CLIENT_ID ?? SANDBOX_DEV_CLIENT_ID;
  const clientSecret = e.FINX_CLIENT_SECRET ?? SANDBOX_DEV_CLIENT_SECRET;

  const widgetAllowedOrigins = (
    e.WIDGET_ALLOWED_ORIGINS ?? (embedded ? undefined : KNOWN_WIDGET_ORIGINS)
  )?.map((o) => {
    const u = parseUrl(o, 'WIDGET_ALLOWED_ORIGINS', problems);
    return u ? u.origin : o;
  });

  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES)
    problems.push('REDIS_URL and REDIS_CLUSTER_NODES: set one, not both');
  const redis =
    e.REDIS_URL || e.REDIS_CLUSTER_NODES
      ? {
          url: e.REDIS_URL,
          clusterNodes: e.REDIS_CLUSTER_NODES,
          commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
        }
      : undefined;
  if (!redis) {
    if (production) problems.push('REDIS_URL or REDIS_CLUSTER_NODES: required when NODE_ENV=production');
    else
      warnings.push(
        'REDIS_URL is not set: sessions, flows and tokens live in this process only and are lost on restart. Development only.',
      );
  }

  let sessionSecrets = e.SESSION_SECRET ?? [];
  if (sessionSecrets.length === 0) {
    if (production) problems.push('SESSION_SECRET: required when NODE_ENV=production');
    else
      warnings.push('SESSION_SECRET is not set: a random one is used, so sessions do not survive a restart.');
    sessionSecrets = [randomBytes(32).toString('base64url')];
  } else if (sessionSecrets.some((s) => s.length < 32)) {
    problems.push('SESSION_SECRET: each secret must be at least 32 characters');
  }

  const encryption = readEncryptionKeys(e, production, problems, warnings);
  if (production) {
    const shipped = (value: string | undefined) => value !== undefined && SHIPPED_DEV_SECRETS.has(value);
    if (sessionSecrets.some((s) => shipped(s)))
      problems.push('SESSION_SECRET: a development secret shipped with this project; generate your own');
    if (shipped(e.TOKEN_ENCRYPTION_KEY))
      problems.push('TOKEN_ENCRYPTION_KEY: a development key shipped with this project; generate your own');
    if (shipped(e.FINX_CLIENT_SECRET))
      problems.push("FINX_CLIENT_SECRET: the sandbox's development secret; use the one finX issued");
    if (shipped(e.METRICS_TOKEN))
      problems.push('METRICS_TOKEN: a development secret shipped with this project; generate your own');
  }

  if (e.REFRESH_LOCK_WAIT_MS < e.REFRESH_LOCK_LEASE_MS) {
    problems.push(
      'REFRESH_LOCK_WAIT_MS: must be at least REFRESH_LOCK_LEASE_MS, or a crashed holder would never be waited out',
    );
  }

  const trustProxy = parseTrustProxy(e.TRUST_PROXY, problems);
  if (e.SESSION_ABSOLUTE_TTL_S < e.SESSION_TTL_S)
    problems.push('SESSION_ABSOLUTE_TTL_S: must be at least SESSION_TTL_S');
  if (e.METRICS_TOKEN !== undefined && e.METRICS_TOKEN.length < 16)
    problems.push('METRICS_TOKEN: at least 16 characters');
  const metricsEnabled = e.METRICS_TOKEN !== undefined || !production;
  if (!metricsEnabled)
    warnings.push('METRICS_TOKEN is not set: /metrics is off (it is never public in production).');

  const apiKeys = e.INTEGRATOR_API_KEYS ?? [];
  if (apiKeys.some((k) => k.length < 32 || !/^[\x21-\x7e]+$/.test(k)))
    problems.push(
      'INTEGRATOR_API_KEYS: each key must be at least 32 printable ASCII characters (openssl rand -hex 32)',
    );
  if (e.REQUIRE_START_TICKET === 'true' && apiKeys.length === 0)
    problems.push('REQUIRE_START_TICKET: needs INTEGRATOR_API_KEYS (tickets come from the integrator API)');

  const webhooks = readWebhookSettings(e, production, problems);
  // Retention must outlast the retry window: an event, its verification and report are still there
  // when the last retry goes out (and the lender then fetches the report).
  let retentionS = e.RETENTION_S;
  if (webhooks.url) {
    const windowS = Math.ceil(retryWindowMs(webhooks) / 1000);
    if (nonBlank.RETENTION_S === undefined)
      retentionS = Math.max(retentionS, Math.ceil(windowS / 86400) * 86400);
    else if (retentionS < windowS)
      problems.push(
        `RETENTION_S: ${retentionS} s is shorter than the webhook retry window (${windowS} s: WEBHOOK_RETRY_SCHEDULE_S with +20 % jitter and a timeout per attempt); raise it or shorten the schedule`,
      );
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const sandboxOptions = sandboxOptionsFromEnv(e, { clientId, clientSecret });
  return {
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl: publicBaseUrl as URL,
    redirectUri: new URL('callback', withTrailingSlash(publicBaseUrl as URL)).toString(),
    returnUrl,
    allowedOrigins,
    trustProxy,
    logLevel: e.LOG_LEVEL,
    provider: {
      baseUrl: e.FINX_API_URL?.replace(/\/+$/, ''),
      clientId,
      clientSecret,
      widgetAllowedOrigins,
      connectTimeoutMs: e.FINX_CONNECT_TIMEOUT_MS,
      headersTimeoutMs: e.FINX_HEADERS_TIMEOUT_MS,
      bodyTimeoutMs: e.FINX_BODY_TIMEOUT_MS,
      requestTimeoutMs: e.FINX_REQUEST_TIMEOUT_MS,
      maxConnections: e.FINX_MAX_CONNECTIONS,
      revokePath: e.FINX_REVOKE_PATH,
      reportingPeriodMonths: e.REPORTING_PERIOD_MONTHS,
      defaultLanguage: e.DEFAULT_LANGUAGE,
      reportPath: e.FINX_REPORT_PATH,
      defaultTokenLifetimeS: e.FINX_TOKEN_LIFETIME_S,
    },
    redis,
    keyPrefix: e.REDIS_KEY_PREFIX,
    session: {
      secrets: sessionSecrets,
      ttlS: e.SESSION_TTL_S,
      absoluteTtlS: e.SESSION_ABSOLUTE_TTL_S,
      // The __Host- prefix makes the browser refuse the cookie unless Secure, Path=/ and no Domain.
      cookieName: https ? '__Host-bff.sid' : 'bff.sid',
      secureCookie: https,
    },
    encryption,
    flow: { ttlS: e.FLOW_TTL_S },
    report: {
      pollIntervalMs: e.REPORT_POLL_INTERVAL_MS,
      readyTimeoutS: e.REPORT_READY_TIMEOUT_S,
      pathAlertAfterS: e.REPORT_PATH_ALERT_S,
    },
    poll: { maxWaitS: e.POLL_MAX_WAIT_S, maxWaiting: e.POLL_MAX_WAITING },
    // The headers get a shorter deadline of their own; the whole request at most HTTP_TIMEOUT_MS.
    http: { requestTimeoutMs: e.HTTP_TIMEOUT_MS, headersTimeoutMs: Math.min(10_000, e.HTTP_TIMEOUT_MS) },
    retentionS,
    tokens: {
      refreshSkewS: e.REFRESH_SKEW_S,
      lockLeaseMs: e.REFRESH_LOCK_LEASE_MS,
      lockWaitMs: e.REFRESH_LOCK_WAIT_MS,
    },
    rateLimits: {
      startsPerSessionPerHour: e.RATE_LIMIT_STARTS_PER_SESSION_PER_HOUR,
      startsPerIpPerHour: e.RATE_LIMIT_STARTS_PER_IP_PER_HOUR,
      callbacksPerIpPerMinute: e.RATE_LIMIT_CALLBACKS_PER_IP_PER_MINUTE,
      pollsPerSessionPerMinute: e.RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE,
    },
    integrator: { apiKeys, perKeyPerMinute: e.RATE_LIMIT_INTEGRATOR_PER_KEY_PER_MINUTE },
    tickets: { ttlS: e.START_TICKET_TTL_S, required: e.REQUIRE_START_TICKET === 'true' },
    jobs: { concurrency: e.JOBS_CONCURRENCY, stalledAfterMs: e.JOBS_STALLED_AFTER_MS },
    webhooks,
    metrics: { enabled: metricsEnabled, token: e.METRICS_TOKEN },
    sandbox: embedded
      ? {
          port: e.SANDBOX_PORT,
          host: e.SANDBOX_HOST ?? '127.0.0.1',
          publicUrl: e.SANDBOX_PUBLIC_URL,
          options: sandboxOptions,
        }
      : undefined,
    warnings,
  };
}

/** The specification's schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h. */
export const DEFAULT_WEBHOOK_SCHEDULE_S = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400];

/** The longest time from an event's first attempt to its last: every delay at +20 % jitter, plus a timeout per attempt. */
export function retryWindowMs(webhooks: Pick<Config['webhooks'], 'scheduleMs' | 'timeoutMs'>): number {
  const delays = webhooks.scheduleMs.reduce((sum, ms) => sum + ms, 0) * 1.2;
  return delays + (webhooks.scheduleMs.length + 1) * webhooks.timeoutMs;
}

function readWebhookSettings(
  e: {
    WEBHOOK_URL?: string | undefined;
    WEBHOOK_SECRET?: string | undefined;
    WEBHOOK_PREVIOUS_SECRETS?: string[] | undefined;
    WEBHOOK_RETRY_SCHEDULE_S?: string[] | undefined;
    WEBHOOK_TIMEOUT_MS: number;
    WEBHOOK_ALLOW_PRIVATE?: 'true' | 'false' | undefined;
  },
  production: boolean,
  problems: string[],
): Config['webhooks'] {
  const allowPrivate = e.WEBHOOK_ALLOW_PRIVATE ? e.WEBHOOK_ALLOW_PRIVATE === 'true' : !production;
  const schedule = e.WEBHOOK_RETRY_SCHEDULE_S ?? DEFAULT_WEBHOOK_SCHEDULE_S.map(String);
  const scheduleMs = schedule.map((v) => Math.round(Number(v) * 1000));
  if (
    scheduleMs.length > 30 ||
    schedule.some((v) => !/^\d+(\.\d+)?$/.test(v)) ||
    scheduleMs.some((ms) => ms < 100 || ms > 7 * 86400_000)
  )
    problems.push(
      'WEBHOOK_RETRY_SCHEDULE_S: 1 to 30 comma-separated delays in seconds (0.1 to 604800 each), e.g. 5,300,1800',
    );
  const keys: Buffer[] = [];
  const url = e.WEBHOOK_URL;
  if (url !== undefined) {
    const parsed = parseUrl(url, 'WEBHOOK_URL', problems);
    if (parsed && production && parsed.protocol !== 'https:')
      problems.push('WEBHOOK_URL: must be https when NODE_ENV=production');
    const host = parsed?.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (
      host &&
      !allowPrivate &&
      (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && !isPublicAddress(host)))
    )
      problems.push(
        'WEBHOOK_URL: points to a loopback, private, link-local or metadata address; set WEBHOOK_ALLOW_PRIVATE=true if that is intended',
      );
    if (parsed && (parsed.username || parsed.password))
      problems.push('WEBHOOK_URL: must not contain credentials (deliveries are signed with WEBHOOK_SECRET)');
    const current = e.WEBHOOK_SECRET ? decodeWebhookSecret(e.WEBHOOK_SECRET) : undefined;
    if (!e.WEBHOOK_SECRET) problems.push('WEBHOOK_SECRET: required when WEBHOOK_URL is set');
    else if (!current)
      problems.push(
        'WEBHOOK_SECRET: must be whsec_ + base64 of 24 to 64 random bytes (echo whsec_$(openssl rand -base64 32))',
      );
    if (current) keys.push(current);
  }
  for (const previous of e.WEBHOOK_PREVIOUS_SECRETS ?? []) {
    const key = decodeWebhookSecret(previous);
    if (key) keys.push(key);
    else problems.push('WEBHOOK_PREVIOUS_SECRETS: each must be whsec_ + base64 of 24 to 64 bytes');
  }
  return { url, keys, scheduleMs, timeoutMs: e.WEBHOOK_TIMEOUT_MS, allowPrivate };
}

function readEncryptionKeys(
  e: {
    TOKEN_ENCRYPTION_KEY?: string | undefined;
    TOKEN_ENCRYPTION_KEY_ID: string;
    TOKEN_ENCRYPTION_PREVIOUS_KEYS?: string[] | undefined;
  },
  production: boolean,
  problems: string[],
  warnings: string[],
): Config['encryption'] {
  let current: EncryptionKey;
  if (e.TOKEN_ENCRYPTION_KEY) {
    const key = decodeKey(e.TOKEN_ENCRYPTION_KEY);
    if (!key)
      problems.push('TOKEN_ENCRYPTION_KEY: must be 32 bytes, base64 encoded (openssl rand -base64 32)');
    current = { id: e.TOKEN_ENCRYPTION_KEY_ID, key: key ?? Buffer.alloc(32) };
  } else {
    if (production) problems.push('TOKEN_ENCRYPTION_KEY: required when NODE_ENV=production');
    else
      warnings.push(
        'TOKEN_ENCRYPTION_KEY is not set: a process-local key is generated; stored tokens are unreadable after a restart.',
      );
    current = { id: e.TOKEN_ENCRYPTION_KEY_ID, key: randomBytes(32) };
  }
  const previous: EncryptionKey[] = [];
  for (const entry of e.TOKEN_ENCRYPTION_PREVIOUS_KEYS ?? []) {
    const sep = entry.indexOf(':');
    const id = entry.slice(0, sep);
    const key = sep > 0 ? decodeKey(entry.slice(sep + 1)) : undefined;
    if (!key || !/^[A-Za-z0-9_-]{1,16}$/.test(id)) {
      problems.push('TOKEN_ENCRYPTION_PREVIOUS_KEYS: each entry must be "<key id>:<32 bytes base64>"');
    } else if (id === current.id) {
      problems.push('TOKEN_ENCRYPTION_PREVIOUS_KEYS: a previous key must not reuse the current key id');
    } else {
      previous.push({ id, key });
    }
  }
  return { current, previous };
}

function decodeKey(value: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  const key = Buffer.from(value, 'base64');
  return key.length === 32 ? key : undefined;
}

function parseUrl(value: string, name: string, problems: string[]): URL | undefined {
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
function readReturnUrl(value: string, base: URL, allowedOrigins: string[], problems: string[]): string {
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

function withTrailingSlash(url: URL): URL {
  const copy = new URL(url.toString());
  if (!copy.pathname.endsWith('/')) copy.pathname += '/';
  return copy;
}

/** Express' `trust proxy`: true/false, a hop count, or a list of addresses, subnets and the names Express knows. */
function parseTrustProxy(value: string | undefined, problems: string[]): boolean | number | string {
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
