/**
 * Every Redis key name, from one place. Keys of one verification share the hash tag `{v:<id>}` so
 * multi-key scripts work on Redis Cluster.
 */
export interface StorageKeys {
  sessionPrefix: string;
  flow(stateHash: string): string;
  meta(verificationId: string): string;
  tokens(verificationId: string): string;
  report(verificationId: string): string;
  refreshLock(verificationId: string): string;
  /** Poll counter of one browser (owner hash) for one verification, beside its state for one round trip. */
  pollCount(verificationId: string, subject: string): string;
  rateLimit(scope: string, subject: string): string;
  /** A start ticket, by the hash of its value. */
  ticket(ticketHash: string): string;
  /** Marks that a verification existed (kept past its records), so reads answer 410 rather than 404. */
  tombstone(verificationId: string): string;
  /** The verifications created under one lender reference (by its hash), newest last. */
  referenceIndex(referenceHash: string): string;
  /** An integrator request's Idempotency-Key (by hash) and the answer it got. */
  idempotency(keyHash: string): string;
  /** The webhook event log's keys (log, append times, bodies, delivery state, dead letters): one hash tag, so one script spans them. */
  events(name: string): string;
  /** The verifications a browser (owner hash) started, so DELETE can forget all of them: one key, its own hash tag. */
  ownerVerifications(ownerHash: string): string;
  allOf(verificationId: string): string[];
}

export function createStorageKeys(prefix: string): StorageKeys {
  const v = (id: string, name: string) => `${prefix}{v:${id}}:${name}`;
  return {
    sessionPrefix: `${prefix}sess:`,
    flow: (stateHash) => `${prefix}flow:${stateHash}`,
    meta: (id) => v(id, 'meta'),
    tokens: (id) => v(id, 'tokens'),
    report: (id) => v(id, 'report'),
    refreshLock: (id) => v(id, 'lock:refresh'),
    pollCount: (id, subject) => v(id, `rl:poll:${subject}`),
    rateLimit: (scope, subject) => `${prefix}rl:${scope}:${subject}`,
    ticket: (hash) => `${prefix}ticket:${hash}`,
    tombstone: (id) => v(id, 'known'),
    referenceIndex: (hash) => `${prefix}ref:${hash}`,
    idempotency: (hash) => `${prefix}idem:${hash}`,
    events: (name) => `${prefix}{events}:${name}`,
    ownerVerifications: (ownerHash) => `${prefix}{o:${ownerHash}}:verifications`,
    allOf: (id) => ['meta', 'tokens', 'report', 'lock:refresh'].map((name) => v(id, name)),
  };
}
