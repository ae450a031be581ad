import { SANDBOX_DEV_CLIENT_SECRET } from '../sandbox/sandbox-config';
import type { Env, ReadValues } from './read-values';

/** A rule between variables: the problems it finds (empty when the configuration is fine). */
type Rule = (e: Env, v: ReadValues) => string[];
const when = (bad: boolean, problem: string): string[] => (bad ? [problem] : []);

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
const shipped = (value: string | undefined) => value !== undefined && SHIPPED_DEV_SECRETS.has(value);

/** The provider ends a grant whose refresh token was not used for 90 days (docs/finx-api.md §3). */
const PROVIDER_INACTIVITY_LIMIT_S = 90 * 86400;

/** Rules in every environment. */
export const CONSISTENCY_RULES: Record<string, Rule> = {
  // A refresh token unused for the provider's inactivity limit is dead: the keep-alive must come
  // sooner. The embedded sandbox's limit is its own refresh-token lifetime.
  keepAliveBeforeInactivityLimit: (e, v) => {
    const limitS = v.embedded
      ? Math.min(PROVIDER_INACTIVITY_LIMIT_S, e.SANDBOX_REFRESH_TOKEN_TTL_S)
      : PROVIDER_INACTIVITY_LIMIT_S;
    return when(
      e.ONGOING_KEEPALIVE_S >= limitS,
      `ONGOING_KEEPALIVE_S: ${e.ONGOING_KEEPALIVE_S} s is not below the provider's inactivity limit (${limitS} s); ongoing access would lapse between keep-alives`,
    );
  },
  publicBaseUrlIsAnOrigin: (_e, v) =>
    when(
      !!v.publicBaseUrl && !!(v.publicBaseUrl.search || v.publicBaseUrl.hash),
      'PUBLIC_BASE_URL: must not contain a query or fragment',
    ),
  providerCredentials: (e, v) =>
    when(
      (!v.embedded || e.NODE_ENV === 'production') && (!e.FINX_CLIENT_ID || !e.FINX_CLIENT_SECRET),
      'FINX_CLIENT_ID and FINX_CLIENT_SECRET: required when FINX_API_URL is set',
    ),
  oneRedis: (e) =>
    when(!!e.REDIS_URL && !!e.REDIS_CLUSTER_NODES, 'REDIS_URL and REDIS_CLUSTER_NODES: set one, not both'),
  sessionSecretLength: (_e, v) =>
    when(
      v.sessionSecrets.some((s) => s.length < 32),
      'SESSION_SECRET: each secret must be at least 32 characters',
    ),
  refreshLockWaitCoversLease: (e) =>
    when(
      e.REFRESH_LOCK_WAIT_MS < e.REFRESH_LOCK_LEASE_MS,
      'REFRESH_LOCK_WAIT_MS: must be at least REFRESH_LOCK_LEASE_MS, or a crashed holder would never be waited out',
    ),
  absoluteSessionOutlastsIdle: (e) =>
    when(
      e.SESSION_ABSOLUTE_TTL_S < e.SESSION_TTL_S,
      'SESSION_ABSOLUTE_TTL_S: must be at least SESSION_TTL_S',
    ),
  metricsTokenLength: (e) =>
    when(
      e.METRICS_TOKEN !== undefined && e.METRICS_TOKEN.length < 16,
      'METRICS_TOKEN: at least 16 characters',
    ),
  integratorKeyStrength: (_e, v) =>
    when(
      v.apiKeys.some((k) => k.length < 32 || !/^[\x21-\x7e]+$/.test(k)),
      'INTEGRATOR_API_KEYS: each key must be at least 32 printable ASCII characters (openssl rand -hex 32)',
    ),
  ticketsNeedTheIntegratorApi: (e, v) =>
    when(
      e.REQUIRE_START_TICKET === 'true' && v.apiKeys.length === 0,
      'REQUIRE_START_TICKET: needs INTEGRATOR_API_KEYS (tickets come from the integrator API)',
    ),
};

/** What NODE_ENV=production insists on: real parts, real secrets, https. */
export const PRODUCTION_RULES: Record<string, Rule> = {
  httpsPublicBaseUrl: (_e, v) =>
    when(
      !!v.publicBaseUrl && v.publicBaseUrl.protocol !== 'https:',
      'PUBLIC_BASE_URL: must be an https URL when NODE_ENV=production',
    ),
  realProvider: (_e, v) =>
    when(v.embedded, 'FINX_API_URL: required when NODE_ENV=production (the sandbox is for development)'),
  httpsProvider: (e) =>
    when(
      e.FINX_API_URL !== undefined && !/^https:/i.test(e.FINX_API_URL),
      'FINX_API_URL: must be https when NODE_ENV=production (the client secret travels with every call)',
    ),
  redis: (e) =>
    when(
      !e.REDIS_URL && !e.REDIS_CLUSTER_NODES,
      'REDIS_URL or REDIS_CLUSTER_NODES: required when NODE_ENV=production',
    ),
  sessionSecret: (_e, v) =>
    when(v.sessionSecrets.length === 0, 'SESSION_SECRET: required when NODE_ENV=production'),
  encryptionKey: (e) =>
    when(!e.TOKEN_ENCRYPTION_KEY, 'TOKEN_ENCRYPTION_KEY: required when NODE_ENV=production'),
  noShippedSecrets: (e, v) => [
    ...when(
      v.sessionSecrets.some(shipped),
      'SESSION_SECRET: a development secret shipped with this project; generate your own',
    ),
    ...when(
      shipped(e.TOKEN_ENCRYPTION_KEY),
      'TOKEN_ENCRYPTION_KEY: a development key shipped with this project; generate your own',
    ),
    ...when(
      shipped(e.FINX_CLIENT_SECRET),
      "FINX_CLIENT_SECRET: the sandbox's development secret; use the one finX issued",
    ),
    ...when(
      shipped(e.METRICS_TOKEN),
      'METRICS_TOKEN: a development secret shipped with this project; generate your own',
    ),
  ],
  httpsWebhook: (_e, v) =>
    when(
      !!v.webhook.url && v.webhook.url.protocol !== 'https:',
      'WEBHOOK_URL: must be https when NODE_ENV=production',
    ),
};

export function problemsOf(rules: Record<string, Rule>, e: Env, v: ReadValues): string[] {
  return Object.values(rules).flatMap((rule) => rule(e, v));
}
