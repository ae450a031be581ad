import { isIP } from 'node:net';
import type { z } from 'zod';
import { isPublicAddress } from '../integrator/webhook-client';
import { decodeWebhookSecret } from '../integrator/webhook-signature';
import type { EncryptionKey } from '../storage/envelope-cipher';
import type { envSchema } from './load';
import { decodeKey, DEFAULT_WEBHOOK_SCHEDULE_S, parseTrustProxy, parseUrl, readReturnUrl } from './parsers';

export type Env = z.infer<typeof envSchema>;

/** The widget hosts finX has used over the years (docs/finx-api.md); used when FINX_API_URL is set and WIDGET_ALLOWED_ORIGINS is not. */
const KNOWN_WIDGET_ORIGINS = [
  'https://widget.qwist.cloud',
  'https://finx.qwist.cloud',
  'https://finx.finleap.cloud',
  'https://ui-next.regshield-p.qwist.cloud',
];

/** What the variables say once read: URLs resolved, keys decoded. Malformed values become problems. */
export interface ReadValues {
  publicBaseUrl: URL | undefined;
  allowedOrigins: string[];
  returnUrl: string;
  /** FINX_API_URL is unset: the embedded sandbox plays the provider. */
  embedded: boolean;
  widgetAllowedOrigins: string[] | undefined;
  trustProxy: boolean | number | string;
  sessionSecrets: string[];
  encryptionKey: Buffer | undefined;
  previousKeys: EncryptionKey[];
  apiKeys: string[];
  webhook: { url: URL | undefined; keys: Buffer[]; scheduleMs: number[]; allowPrivate: boolean };
}

export function readValues(e: Env, problems: string[]): ReadValues {
  const production = e.NODE_ENV === 'production';
  const origin = (value: string, name: string) => parseUrl(value, name, problems)?.origin ?? value;
  const publicBaseUrl = parseUrl(
    e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT || 3000}`,
    'PUBLIC_BASE_URL',
    problems,
  );
  const allowedOrigins = (e.ALLOWED_ORIGINS ?? (publicBaseUrl ? [publicBaseUrl.origin] : [])).map((o) =>
    origin(o, 'ALLOWED_ORIGINS'),
  );
  const embedded = e.FINX_API_URL === undefined;
  if (!embedded) parseUrl(e.FINX_API_URL as string, 'FINX_API_URL', problems);
  const encryptionKey = e.TOKEN_ENCRYPTION_KEY ? decodeKey(e.TOKEN_ENCRYPTION_KEY) : undefined;
  if (e.TOKEN_ENCRYPTION_KEY && !encryptionKey)
    problems.push('TOKEN_ENCRYPTION_KEY: must be 32 bytes, base64 encoded (openssl rand -base64 32)');
  return {
    publicBaseUrl,
    allowedOrigins,
    returnUrl: publicBaseUrl
      ? readReturnUrl(e.RETURN_URL ?? '/', publicBaseUrl, allowedOrigins, problems)
      : '/',
    embedded,
    widgetAllowedOrigins: (e.WIDGET_ALLOWED_ORIGINS ?? (embedded ? undefined : KNOWN_WIDGET_ORIGINS))?.map(
      (o) => origin(o, 'WIDGET_ALLOWED_ORIGINS'),
    ),
    trustProxy: parseTrustProxy(e.TRUST_PROXY, problems),
    sessionSecrets: e.SESSION_SECRET ?? [],
    encryptionKey,
    previousKeys: readPreviousKeys(e, problems),
    apiKeys: e.INTEGRATOR_API_KEYS ?? [],
    webhook: readWebhook(e, production, problems),
  };
}

function readPreviousKeys(e: Env, problems: string[]): EncryptionKey[] {
  const previous: EncryptionKey[] = [];
  for (const entry of e.TOKEN_ENCRYPTION_PREVIOUS_KEYS ?? []) {
    const sep = entry.indexOf(':');
    const id = entry.slice(0, sep);
    const key = sep > 0 ? decodeKey(entry.slice(sep + 1)) : undefined;
    if (!key || !/^[A-Za-z0-9_-]{1,16}$/.test(id)) {
      problems.push('TOKEN_ENCRYPTION_PREVIOUS_KEYS: each entry must be "<key id>:<32 bytes base64>"');
    } else if (id === e.TOKEN_ENCRYPTION_KEY_ID) {
      problems.push('TOKEN_ENCRYPTION_PREVIOUS_KEYS: a previous key must not reuse the current key id');
    } else {
      previous.push({ id, key });
    }
  }
  return previous;
}

function readWebhook(e: Env, production: boolean, problems: string[]): ReadValues['webhook'] {
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
  let url: URL | undefined;
  if (e.WEBHOOK_URL !== undefined) {
    url = parseUrl(e.WEBHOOK_URL, 'WEBHOOK_URL', problems);
    const host = url?.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    if (
      host &&
      !allowPrivate &&
      (host === 'localhost' || host.endsWith('.localhost') || (isIP(host) !== 0 && !isPublicAddress(host)))
    )
      problems.push(
        'WEBHOOK_URL: points to a loopback, private, link-local or metadata address; set WEBHOOK_ALLOW_PRIVATE=true if that is intended',
      );
    if (url && (url.username || url.password))
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
  return { url, keys, scheduleMs, allowPrivate };
}
