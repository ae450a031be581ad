import { randomBytes } from 'node:crypto';
import { SANDBOX_DEV_CLIENT_ID, SANDBOX_DEV_CLIENT_SECRET } from '../sandbox/sandbox-config';
import type { Env, ReadValues } from './read-values';

/**
 * What the embedded development setup fills in when a variable is unset (production has refused
 * by now): random secrets, the sandbox's credentials. Each default that loses data on a restart
 * is said out loud as a warning.
 */
export function developmentDefaults(e: Env, v: ReadValues) {
  const warnings: string[] = [];
  if (!e.REDIS_URL && !e.REDIS_CLUSTER_NODES)
    warnings.push(
      'REDIS_URL is not set: sessions, flows and tokens live in this process only and are lost on restart. Development only.',
    );
  let sessionSecrets = v.sessionSecrets;
  if (sessionSecrets.length === 0) {
    warnings.push('SESSION_SECRET is not set: a random one is used, so sessions do not survive a restart.');
    sessionSecrets = [randomBytes(32).toString('base64url')];
  }
  let encryptionKey = v.encryptionKey;
  if (!e.TOKEN_ENCRYPTION_KEY) {
    warnings.push(
      'TOKEN_ENCRYPTION_KEY is not set: a process-local key is generated; stored tokens are unreadable after a restart.',
    );
    encryptionKey = randomBytes(32);
  }
  const metricsEnabled = e.METRICS_TOKEN !== undefined || e.NODE_ENV !== 'production';
  if (!metricsEnabled)
    warnings.push('METRICS_TOKEN is not set: /metrics is off (it is never public in production).');
  return {
    sessionSecrets,
    encryptionKey: encryptionKey ?? Buffer.alloc(32),
    clientId: e.FINX_CLIENT_ID ?? SANDBOX_DEV_CLIENT_ID,
    clientSecret: e.FINX_CLIENT_SECRET ?? SANDBOX_DEV_CLIENT_SECRET,
    metricsEnabled,
    warnings,
  };
}
export type Defaults = ReturnType<typeof developmentDefaults>;
