import { sandboxOptionsFromEnv } from '../sandbox/sandbox-config';
import type { Defaults } from './development-defaults';
import { withTrailingSlash } from './parsers';
import type { Env, ReadValues } from './read-values';
import type { Config } from './types';

/** The Config the rest of the server sees, from variables that passed every rule. */
export function assemble(e: Env, v: ReadValues, d: Defaults, retentionS: number): Config {
  const { clientId, clientSecret } = d;
  const publicBaseUrl = v.publicBaseUrl as URL;
  const https = publicBaseUrl.protocol === 'https:';
  return {
    port: e.PORT,
    host: e.HOST,
    publicBaseUrl,
    redirectUri: new URL('callback', withTrailingSlash(publicBaseUrl)).toString(),
    returnUrl: v.returnUrl,
    allowedOrigins: v.allowedOrigins,
    trustProxy: v.trustProxy,
    logLevel: e.LOG_LEVEL,
    provider: {
      baseUrl: e.FINX_API_URL?.replace(/\/+$/, ''),
      clientId,
      clientSecret,
      widgetAllowedOrigins: v.widgetAllowedOrigins,
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
    redis:
      e.REDIS_URL || e.REDIS_CLUSTER_NODES
        ? {
            url: e.REDIS_URL,
            clusterNodes: e.REDIS_CLUSTER_NODES,
            commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
          }
        : undefined,
    keyPrefix: e.REDIS_KEY_PREFIX,
    session: {
      secrets: d.sessionSecrets,
      ttlS: e.SESSION_TTL_S,
      absoluteTtlS: e.SESSION_ABSOLUTE_TTL_S,
      // The __Host- prefix makes the browser refuse the cookie unless Secure, Path=/ and no Domain.
      cookieName: https ? '__Host-bff.sid' : 'bff.sid',
      secureCookie: https,
    },
    encryption: {
      current: { id: e.TOKEN_ENCRYPTION_KEY_ID, key: d.encryptionKey },
      previous: v.previousKeys,
    },
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
    ongoing: {
      maxAccessMs: e.ONGOING_ACCESS_MAX_DAYS * 86400 * 1000,
      keepaliveMs: e.ONGOING_KEEPALIVE_S * 1000,
    },
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
    integrator: { apiKeys: v.apiKeys, perKeyPerMinute: e.RATE_LIMIT_INTEGRATOR_PER_KEY_PER_MINUTE },
    tickets: { ttlS: e.START_TICKET_TTL_S, required: e.REQUIRE_START_TICKET === 'true' },
    jobs: { concurrency: e.JOBS_CONCURRENCY, stalledAfterMs: e.JOBS_STALLED_AFTER_MS },
    webhooks: {
      url: e.WEBHOOK_URL,
      keys: v.webhook.keys,
      scheduleMs: v.webhook.scheduleMs,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      allowPrivate: v.webhook.allowPrivate,
    },
    metrics: { enabled: d.metricsEnabled, token: e.METRICS_TOKEN },
    sandbox: v.embedded
      ? {
          port: e.SANDBOX_PORT,
          host: e.SANDBOX_HOST ?? '127.0.0.1',
          publicUrl: e.SANDBOX_PUBLIC_URL,
          options: sandboxOptionsFromEnv(e, { clientId, clientSecret }),
        }
      : undefined,
    warnings: d.warnings,
  };
}
