import { createHmac } from 'node:crypto';

const PREFIX = 'whsec_';

/**
 * Decodes a Standard Webhooks secret (`whsec_` + base64 of 24 to 64 random bytes) into the HMAC key,
 * or undefined when it is not one.
 */
export function decodeWebhookSecret(secret: string): Buffer | undefined {
  if (!secret.startsWith(PREFIX)) return undefined;
  const encoded = secret.slice(PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) return undefined;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= 24 && key.length <= 64 ? key : undefined;
}

/**
 * The `webhook-signature` header of the Standard Webhooks specification, v1: one
 * `v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body bytes>">` per key, space-separated, so a
 * receiver holding either the new or a previous secret verifies during a rotation. The body is
 * signed as the exact bytes sent (the reference library signs a string; for our UTF-8 JSON the two
 * agree, which test/unit/webhook-signature.test.ts pins with a golden vector).
 */
export function signWebhook(keys: readonly Buffer[], id: string, timestampS: number, body: Buffer): string {
  return keys
    .map((key) => {
      const mac = createHmac('sha256', key);
      mac.update(`${id}.${timestampS}.`, 'utf8');
      mac.update(body);
      return `v1,${mac.digest('base64')}`;
    })
    .join(' ');
}
