import { z } from 'zod';
import { LANGUAGES } from '../provider/languages';
import { defineEntries, int, list, optionalString } from './entry';

/** The report path finX documents; `{id}` is the flow id. */
export const DEFAULT_REPORT_PATH = '/rest/income-reports/{id}';

/**
 * Every variable the server reads: its group, what it does (the README's configuration table and
 * `.env.example` are generated from `doc` and `example` by `npm run docs:config`; a test holds them
 * equal), and its schema with the default. Rules between variables live in production-rules.ts and
 * load.ts.
 */
export const SERVER_ENTRIES = defineEntries({
  NODE_ENV: {
    group: 'server',
    doc: 'development / test / production; production enforces the required variables below. Default development (the Docker image sets production).',
    example: 'development',
    schema: z.enum(['development', 'test', 'production']).default('development'),
  },
  PORT: {
    group: 'server',
    doc: 'HTTP port to listen on (0 = any free port). Default 3000.',
    example: '3000',
    schema: int(0, 3000).pipe(z.number().max(65535)),
  },
  HOST: {
    group: 'server',
    doc: 'Interface to listen on. Default: unset = all interfaces.',
    schema: optionalString,
  },
  PUBLIC_BASE_URL: {
    group: 'server',
    doc: 'Public origin (and optional path) browsers use; /callback under it is the redirect URI. Default http://localhost:$PORT. Production: required, https (e.g. https://income.example.com).',
    setInProduction: true,
    schema: optionalString,
  },
  RETURN_URL: {
    group: 'server',
    doc: 'Where /callback sends the browser afterwards: a path or an http(s) URL. Default /.',
    example: '/',
    schema: optionalString,
  },
  ALLOWED_ORIGINS: {
    group: 'server',
    doc: 'Comma-separated origins allowed to call /api (CSRF guard). Default: the PUBLIC_BASE_URL origin.',
    schema: list,
  },
  TRUST_PROXY: {
    group: 'server',
    doc: 'Express "trust proxy": true, false, a hop count or a list of addresses/subnets. Default false; set it behind a load balancer.',
    example: 'false',
    schema: optionalString,
  },
  LOG_LEVEL: {
    group: 'server',
    doc: 'fatal / error / warn / info / debug / trace / silent. Default info.',
    example: 'info',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  },
  FINX_API_URL: {
    group: 'provider',
    doc: 'finX API base URL from onboarding (staging: https://api.finx-s.qwist.cloud). Default: unset = embedded sandbox (development only). Production: required.',
    setInProduction: true,
    schema: optionalString,
  },
  FINX_CLIENT_ID: {
    group: 'provider',
    doc: "OAuth client id and secret from finX. Default: the sandbox's dev credentials. Required whenever FINX_API_URL is set (so in production).",
    setInProduction: true,
    schema: optionalString,
  },
  FINX_CLIENT_SECRET: {
    group: 'provider',
    doc: "OAuth client id and secret from finX. Default: the sandbox's dev credentials. Required whenever FINX_API_URL is set (so in production).",
    setInProduction: true,
    schema: optionalString,
  },
  WIDGET_ALLOWED_ORIGINS: {
    group: 'provider',
    doc: "Comma-separated origins a widget location may have. Default: the known finX widget hosts with FINX_API_URL, else the sandbox's origin.",
    example: 'https://widget.qwist.cloud,https://finx.qwist.cloud,https://finx.finleap.cloud',
    schema: list,
  },
  FINX_CONNECT_TIMEOUT_MS: {
    group: 'provider',
    doc: 'Time to open a TCP connection to finX, in ms. Default 3000.',
    example: '3000',
    schema: int(1, 3000),
  },
  FINX_HEADERS_TIMEOUT_MS: {
    group: 'provider',
    doc: 'Time to receive response headers from finX, in ms. Default 10000.',
    example: '10000',
    schema: int(1, 10000),
  },
  FINX_BODY_TIMEOUT_MS: {
    group: 'provider',
    doc: 'Time between response body chunks from finX, in ms. Default 10000.',
    example: '10000',
    schema: int(1, 10000),
  },
  FINX_REQUEST_TIMEOUT_MS: {
    group: 'provider',
    doc: 'Overall deadline for one finX call, connection to last byte, in ms. Default 15000.',
    example: '15000',
    schema: int(1, 15000),
  },
  FINX_MAX_CONNECTIONS: {
    group: 'provider',
    doc: 'Maximum concurrent connections to finX. Default 50.',
    example: '50',
    schema: int(1, 50),
  },
  FINX_REVOKE_PATH: {
    group: 'provider',
    doc: "Path of finX's token revocation endpoint (e.g. /auth/revoke), called on deletion when set; its existence today is undocumented, so it is off by default. Deletion happens either way.",
    schema: z
      .string()
      .regex(/^\/[A-Za-z0-9/_-]*$/, 'a path starting with "/", e.g. /auth/revoke')
      .optional(),
  },
  FINX_REPORT_PATH: {
    group: 'provider',
    doc: 'Path of the income report at finX, {id} = the flow id (the public material also shows a query form). Default /rest/income-reports/{id}.',
    example: '/rest/income-reports/{id}',
    schema: z
      .string()
      .regex(
        /^\/(?:[A-Za-z0-9/_.-]|\{id\})*(?:\?(?:[A-Za-z0-9_.=&-]|\{id\})*)?$/,
        'a path starting with "/", with {id} where the flow id goes, e.g. /rest/income-reports/{id}',
      )
      .default(DEFAULT_REPORT_PATH),
  },
  FINX_TOKEN_LIFETIME_S: {
    group: 'provider',
    doc: 'Access token lifetime assumed when a token answer has no usable expires_in, in seconds. Default 300.',
    example: '300',
    schema: int(10, 300),
  },
  REPORTING_PERIOD_MONTHS: {
    group: 'provider',
    doc: 'Months of transactions the income report covers (minimum 4). Default 12.',
    example: '12',
    schema: int(4, 12),
  },
  DEFAULT_LANGUAGE: {
    group: 'provider',
    doc: 'Widget language when the client asks for none: de / en / es / fr / ar. Default en.',
    example: 'en',
    schema: z.enum(LANGUAGES).default('en'),
  },
  REDIS_URL: {
    group: 'redis',
    doc: 'One Redis node (redis:// or rediss://). Default: unset = in-process store (development only). Production: this or REDIS_CLUSTER_NODES (e.g. rediss://user:password@redis.internal:6380).',
    setInProduction: true,
    schema: optionalString,
  },
  REDIS_CLUSTER_NODES: {
    group: 'redis',
    doc: 'Comma-separated cluster seed nodes (host:port or URLs); set this or REDIS_URL, not both. Default unset.',
    schema: list,
  },
  REDIS_COMMAND_TIMEOUT_MS: {
    group: 'redis',
    doc: 'Per-command timeout, in ms; also the connect timeout (at least 1000). Default 2000.',
    example: '2000',
    schema: int(1, 2000),
  },
  REDIS_KEY_PREFIX: {
    group: 'redis',
    doc: 'Prefix for every key this app writes (letters, digits, ":", "_", "-"). Default bff:',
    example: 'bff:',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9:_-]{1,64}$/, 'letters, digits, ":", "_" or "-" (1 to 64)')
      .default('bff:'),
  },
  SESSION_SECRET: {
    group: 'sessions',
    doc: 'Session cookie signing secret(s), comma-separated, newest first, each at least 32 characters (openssl rand -base64 32). Default: random per process. Production: required.',
    setInProduction: true,
    schema: list,
  },
  SESSION_TTL_S: {
    group: 'sessions',
    doc: 'Idle session lifetime in seconds: renewed by activity (at most once per quarter of it, polls do not write the session otherwise). Default 86400.',
    example: '86400',
    schema: int(1, 86400),
  },
  SESSION_ABSOLUTE_TTL_S: {
    group: 'sessions',
    doc: 'Absolute session lifetime in seconds: the session ends this long after it began, however active (must be at least SESSION_TTL_S). Default 604800 (7 days).',
    example: '604800',
    schema: int(1, 7 * 86400),
  },
  TOKEN_ENCRYPTION_KEY: {
    group: 'sessions',
    doc: 'Key that encrypts stored provider tokens: 32 bytes, base64 (openssl rand -base64 32). Default: random per process. Production: required.',
    setInProduction: true,
    schema: optionalString,
  },
  TOKEN_ENCRYPTION_KEY_ID: {
    group: 'sessions',
    doc: 'Id stored with data encrypted under TOKEN_ENCRYPTION_KEY (1-16 of letters, digits, "_", "-"); change it when you rotate. Default k1.',
    example: 'k1',
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,16}$/, 'letters, digits, "_" or "-" (1 to 16)')
      .default('k1'),
  },
  TOKEN_ENCRYPTION_PREVIOUS_KEYS: {
    group: 'sessions',
    doc: 'Retired keys still accepted for reading, comma-separated "<key id>:<32 bytes base64>". Default none.',
    schema: list,
  },
  FLOW_TTL_S: {
    group: 'timing',
    doc: 'How long a started verification waits for the widget callback, in seconds. Default 1800.',
    example: '1800',
    schema: int(10, 1800),
  },
  REPORT_POLL_INTERVAL_MS: {
    group: 'timing',
    doc: "Minimum time between report fetches for one verification (also the clients' Retry-After), in ms. Default 2000.",
    example: '2000',
    schema: int(100, 2000),
  },
  POLL_MAX_WAIT_S: {
    group: 'timing',
    doc: 'Longest a status poll with `Prefer: wait` is held until the state changes, in seconds (0: never held, at most 55). Default 25.',
    example: '25',
    // Below the usual 60 s idle timeout of proxies and load balancers in front.
    schema: int(0, 25, 55),
  },
  POLL_MAX_WAITING: {
    group: 'timing',
    doc: 'Most polls one process holds at once (also at most 4 per session); past it, polls are answered at once. Default 10000.',
    example: '10000',
    schema: int(0, 10_000),
  },
  REPORT_READY_TIMEOUT_S: {
    group: 'timing',
    doc: 'How long after the code exchange a report may take before the verification fails, in seconds. Default 600.',
    example: '600',
    schema: int(1, 600),
  },
  REPORT_PATH_ALERT_S: {
    group: 'timing',
    doc: 'When every report request has answered 404 this long, FINX_REPORT_PATH is reported wrong (s). Default 300.',
    example: '300',
    schema: int(1, 300),
  },
  HTTP_TIMEOUT_MS: {
    group: 'server',
    doc: 'Deadline for receiving a whole request (headers within 10 s), in ms; a slower client gets 408. Default 30000.',
    example: '30000',
    schema: int(1000, 30000),
  },
  RETENTION_S: {
    group: 'timing',
    doc: 'How long verifications, reports and tokens are kept, in seconds. Default 86400.',
    example: '86400',
    schema: int(60, 86400),
  },
  ONGOING_ACCESS_MAX_DAYS: {
    group: 'timing',
    doc: 'How long an ongoing access lasts from the consent, in days (tokens and report kept that long). Default and maximum 90.',
    example: '90',
    schema: int(1, 90, 90),
  },
  ONGOING_KEEPALIVE_S: {
    group: 'timing',
    doc: "Interval of the keep-alive refresh of an ongoing access, in seconds; must be below the provider's 90-day inactivity limit (with the embedded sandbox: below `SANDBOX_REFRESH_TOKEN_TTL_S`). Default 2592000 (30 days).",
    example: '2592000',
    schema: int(1, 30 * 86400),
  },
  REFRESH_SKEW_S: {
    group: 'timing',
    doc: 'Refresh an access token this many seconds before it expires. Default 60.',
    example: '60',
    schema: int(0, 60),
  },
  REFRESH_LOCK_LEASE_MS: {
    group: 'timing',
    doc: 'Lease of the per-verification token refresh lock, in ms. Default 5000.',
    example: '5000',
    schema: int(100, 5000),
  },
  REFRESH_LOCK_WAIT_MS: {
    group: 'timing',
    doc: "How long a request waits for another instance's refresh, in ms; at least REFRESH_LOCK_LEASE_MS. Default 10000.",
    example: '10000',
    schema: int(100, 10000),
  },
  METRICS_TOKEN: {
    group: 'metrics',
    doc: 'Bearer token for GET /metrics (at least 16 characters). Without it /metrics is served only outside production; in production it is off.',
    schema: optionalString,
  },
  RATE_LIMIT_STARTS_PER_SESSION_PER_HOUR: {
    group: 'rateLimits',
    doc: 'Verification starts per session per hour. Default 20.',
    example: '20',
    schema: int(1, 20),
  },
  RATE_LIMIT_STARTS_PER_IP_PER_HOUR: {
    group: 'rateLimits',
    doc: 'Verification starts per client IP per hour (set TRUST_PROXY behind a proxy). Default 200.',
    example: '200',
    schema: int(1, 200),
  },
  RATE_LIMIT_CALLBACKS_PER_IP_PER_MINUTE: {
    group: 'rateLimits',
    doc: 'Callback requests (/callback, /api/verification/callback) per client IP per minute. Default 60.',
    example: '60',
    schema: int(1, 60),
  },
  RATE_LIMIT_POLLS_PER_SESSION_PER_MINUTE: {
    group: 'rateLimits',
    doc: 'Verification status polls per session per minute. Default 600.',
    example: '600',
    schema: int(1, 600),
  },
  INTEGRATOR_API_KEYS: {
    group: 'integrator',
    doc: "Comma-separated API keys of the lender's backend, each at least 32 characters (two during a rotation). Unset: the integrator API is off (404).",
    schema: list,
  },
  RATE_LIMIT_INTEGRATOR_PER_KEY_PER_MINUTE: {
    group: 'integrator',
    doc: 'Integrator API requests per key per minute. Default 600.',
    example: '600',
    schema: int(1, 600),
  },
  START_TICKET_TTL_S: {
    group: 'integrator',
    doc: "Lifetime of a start ticket (the lender's `start_url`), in seconds. Default 3600.",
    example: '3600',
    schema: int(60, 3600),
  },
  REQUIRE_START_TICKET: {
    group: 'integrator',
    doc: '`true`: starts without a ticket are refused with `ticket_required`. Needs `INTEGRATOR_API_KEYS`. Default false.',
    example: 'false',
    schema: z.enum(['true', 'false']).default('false'),
  },
  JOBS_CONCURRENCY: {
    group: 'integrator',
    doc: 'Background jobs (report readiness, expiry) run at once per instance. Default 50.',
    example: '50',
    schema: int(1, 50),
  },
  JOBS_STALLED_AFTER_MS: {
    group: 'integrator',
    doc: 'A job whose instance died is taken over by another after about this long, in ms. Default 30000.',
    example: '30000',
    schema: int(1000, 30000),
  },
  WEBHOOK_URL: {
    group: 'webhooks',
    doc: 'Where verification.ready / .cancelled / .failed / .expired events are POSTed. Default: unset = no deliveries (GET /integrator/v1/events still lists the events). Production: https, and not a loopback/private/link-local/metadata address.',
    example: 'https://lender.example/webhooks/income',
    schema: optionalString,
  },
  WEBHOOK_SECRET: {
    group: 'webhooks',
    doc: 'Signing secret: whsec_ + base64 of 24 to 64 random bytes (echo "whsec_$(openssl rand -base64 32)"). Required with WEBHOOK_URL.',
    schema: optionalString,
  },
  WEBHOOK_PREVIOUS_SECRETS: {
    group: 'webhooks',
    doc: 'Retired secrets still signed with during a rotation, comma-separated (each delivery then carries one signature per secret). Default none.',
    schema: list,
  },
  WEBHOOK_RETRY_SCHEDULE_S: {
    group: 'webhooks',
    doc: 'Delays before each retry, in seconds, after the immediate first attempt (5 delays = at most 6 attempts); each gets ±20 % jitter. Default 5,300,1800,7200,18000,36000,50400,72000,86400.',
    example: '5,300,1800,7200,18000,36000,50400,72000,86400',
    schema: list,
  },
  WEBHOOK_TIMEOUT_MS: {
    group: 'webhooks',
    doc: 'Deadline of one delivery attempt, connect to response headers, in ms. Default 15000.',
    example: '15000',
    schema: int(100, 15000),
  },
  WEBHOOK_ALLOW_PRIVATE: {
    group: 'webhooks',
    doc: 'Allow WEBHOOK_URL to reach loopback, private, link-local and metadata addresses (checked when connecting). Default: false in production, true otherwise.',
    example: 'false',
    schema: z.enum(['true', 'false']).optional(),
  },
});
