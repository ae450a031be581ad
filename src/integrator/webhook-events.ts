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

/** The n-th report refresh's event id (n from 1): numbered, so a deletion can name all of them. */
const reportUpdateKey = (n: number) => `report_updated:${n}`;

/**
 * Every webhook id a verification can have: one per way it can end, the loss of ongoing access,
 * and one per report refresh stored so far (`reportUpdates` of its state).
 */
export const webhookIdsOf = (verificationId: string, reportUpdates = 0): string[] =>
  [
    'ready',
    'cancelled',
    'failed',
    'expired',
    'access_lost',
    ...Array.from({ length: reportUpdates }, (_, i) => reportUpdateKey(i + 1)),
  ].map((status) => webhookIdFor(verificationId, status));

export interface OutgoingEvent {
  event: WebhookEvent;
  body: string;
  changedAt: number;
}

function eventOf(
  verificationId: string,
  meta: VerificationMeta,
  kind: string,
  idKey: string,
  changedAt: number,
): OutgoingEvent {
  const type = `verification.${kind}`;
  const timestamp = new Date(changedAt).toISOString();
  const data = {
    id: verificationId,
    reference: meta.reference ?? null,
    status: meta.status,
    error: meta.error?.code ?? null,
  };
  return {
    event: { id: webhookIdFor(verificationId, idKey), type, timestamp, data },
    // Thin by design: no report, no token; the lender fetches the report through the API.
    body: JSON.stringify({ type, timestamp, data }),
    changedAt,
  };
}

/** The event of a verification that reached an end, and the exact body its deliveries send. */
export function verificationEvent(verificationId: string, meta: VerificationMeta): OutgoingEvent {
  return eventOf(verificationId, meta, meta.status, meta.status, meta.updatedAt ?? meta.createdAt);
}

/** An ongoing access ended because the provider refused to refresh it (once per verification). */
export function accessLostEvent(verificationId: string, meta: VerificationMeta): OutgoingEvent {
  return eventOf(verificationId, meta, 'access_lost', 'access_lost', meta.updatedAt ?? meta.createdAt);
}

/** The latest report refresh stored (`reportUpdates`-th): the lender reads the new report by id. */
export function reportUpdatedEvent(verificationId: string, meta: VerificationMeta): OutgoingEvent {
  return eventOf(
    verificationId,
    meta,
    'report_updated',
    reportUpdateKey(meta.reportUpdates ?? 0),
    meta.reportFetchedAt ?? meta.updatedAt ?? meta.createdAt,
  );
}
