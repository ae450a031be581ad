import { createHash } from 'node:crypto';
import type { VerificationMeta } from '../verification/verification-store';
import type { WebhookEvent } from './event-log';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * One id per verification and outcome, the same however often (and on whichever instance) the
 * outcome is found: `msg_` + 26 Crockford base32 characters (130 bits) of a hash, shaped like the
 * specification's ULID example but derived, not random, so appending and enqueueing are idempotent.
 */
export function webhookIdFor(verificationId: string, status: string): string {
  const digest = createHash('sha256').update(`${verificationId}\0${status}`).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 26) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length === 26) break;
  }
  return `msg_${out}`;
}

/** Every webhook id a verification can have (one per way it can end). */
export const webhookIdsOf = (verificationId: string): string[] =>
  ['ready', 'cancelled', 'failed', 'expired'].map((status) => webhookIdFor(verificationId, status));

/** The event of a verification that reached an end, and the exact body its deliveries send. */
export function verificationEvent(
  verificationId: string,
  meta: VerificationMeta,
): { event: WebhookEvent; body: string; changedAt: number } {
  const changedAt = meta.updatedAt ?? meta.createdAt;
  const type = `verification.${meta.status}`;
  const timestamp = new Date(changedAt).toISOString();
  const data = {
    id: verificationId,
    reference: meta.reference ?? null,
    status: meta.status,
    error: meta.error?.code ?? null,
  };
  return {
    event: { id: webhookIdFor(verificationId, meta.status), type, timestamp, data },
    // Thin by design: no report, no token; the lender fetches the report through the API.
    body: JSON.stringify({ type, timestamp, data }),
    changedAt,
  };
}
