import { z } from 'zod';
import type { CompanionWrite, KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';
import type { ChangeNotifier } from './change-notifier';

export const verificationStatuses = [
  /** Created by the lender's API; waits for its start ticket to be redeemed. */
  'created',
  'awaiting_user',
  'processing',
  'ready',
  'cancelled',
  'failed',
  'expired',
] as const;
export type VerificationStatus = (typeof verificationStatuses)[number];

export const accessKinds = ['one_time', 'ongoing'] as const;
export type AccessKind = (typeof accessKinds)[number];

const metaSchema = z.object({
  status: z.enum(verificationStatuses),
  /** The provider's flow id; empty while `created` (the widget link is made when the ticket is redeemed). */
  flowId: z.string(),
  createdAt: z.number(),
  updatedAt: z.number().optional(),
  /** The lender's own reference (integrator API); null for verifications started without a ticket. */
  reference: z.string().nullable().optional(),
  /** Hash of the start ticket (integrator API), so deleting the verification also voids its ticket. */
  ticketHash: z.string().optional(),
  /** The lender's prefill (IBAN, language) for the widget link made at redemption; sealed, it may hold an IBAN. */
  prefill: z.string().optional(),
  /** Past this the user has not come back from the widget (or, while `created`, redeemed the ticket): expired. */
  awaitingUntil: z.number(),
  /** Hash of the flow's state, so deleting the verification also deletes its pending flow record. */
  stateHash: z.string().optional(),
  /** Origin of the widget location the provider returned for this flow. */
  widgetOrigin: z.string().optional(),
  exchangedAt: z.number().optional(),
  /** Past this a report that is still "not ready" counts as failed. */
  readyBy: z.number().optional(),
  reportVersion: z.string().optional(),
  /** Upstream report requests so far that found it not ready: drives the backoff. */
  fetchAttempts: z.number().int().optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
  /** One-time (tokens dropped when the report is stored) or ongoing (tokens kept alive); absent: one-time. */
  access: z.enum(accessKinds).optional(),
  /** Ongoing access ends here (the consent plus ONGOING_ACCESS_MAX_DAYS); set at the code exchange. */
  accessExpiresAt: z.number().optional(),
  /** When the stored report was fetched from the provider. */
  reportFetchedAt: z.number().optional(),
  /** Reports stored by report refreshes so far (numbers their `verification.report_updated` events). */
  reportUpdates: z.number().int().optional(),
  /** False between storing a refreshed report and appending its event (a crash in between is repaired by the next job run). */
  reportAnnounced: z.boolean().optional(),
  /** A report refresh the lender asked for and no job has finished yet (one at a time). */
  refreshPending: z.object({ id: z.string(), requestedAt: z.number() }).optional(),
});
export type VerificationMeta = z.infer<typeof metaSchema>;
export type RefreshRequest = NonNullable<VerificationMeta['refreshPending']>;

/**
 * How long a verification's records (state, report, tokens) are kept from now: the retention
 * period, or for ongoing access as long as the access lasts, whichever is longer.
 */
export function keepMsOf(meta: VerificationMeta, now: number, retentionMs: number): number {
  return Math.max(retentionMs, (meta.accessExpiresAt ?? 0) - now);
}

const TOMBSTONE_EXTRA_MS = 30 * 24 * 3600 * 1000;

export interface VersionedMeta {
  meta: VerificationMeta;
  version: string;
}

/** The state of one verification (no secrets: status, flow id, timestamps), in its own key, changed by compare-and-set. */
export interface VerificationStore {
  read(id: string): Promise<VersionedMeta | null>;
  /** The stored state as text, not parsed (the poll parses a state once per change, see `parse`); null when gone. */
  readStored(id: string): Promise<string | null>;
  /**
   * The stored state as text, and one more poll by `subject` counted in a fixed window, in one round
   * trip: the counter lives beside the state, under its hash tag.
   */
  readStoredCounting(
    id: string,
    subject: string,
    windowMs: number,
  ): Promise<{ value: string | null; count: number; resetInMs: number }>;
  create(id: string, meta: VerificationMeta): Promise<void>;
  /** Moves from `previous` to `next` together with the companion writes; false when `previous` is no longer current. */
  transition(
    id: string,
    previous: VersionedMeta,
    next: VerificationMeta,
    companions?: CompanionWrite[],
    options?: { announce?: boolean },
  ): Promise<boolean>;
  /**
   * Tells waiting polls on every instance about a state written with `announce: false` (the
   * callback announces its change once its answer, which carries the renewed session cookie, is out).
   */
  announce(id: string, meta: VerificationMeta): Promise<void>;
  /**
   * Reads the current state and applies `change` by compare-and-set, re-reading when another writer
   * won; `change` returns null for "nothing to do". Null when the verification does not exist.
   */
  transitionFresh(
    id: string,
    change: (meta: VerificationMeta) => { meta: VerificationMeta; companions?: CompanionWrite[] } | null,
  ): Promise<{ written: boolean; meta: VerificationMeta } | null>;
  /** True when the verification existed within the retention period plus a grace (its tombstone). */
  existed(id: string): Promise<boolean>;
  /** Deletes everything stored for the verification (meta, tokens, report, locks). */
  removeAll(id: string): Promise<void>;
  parse(raw: string): VersionedMeta;
}

export function createVerificationStore(deps: {
  kv: KeyValueStore;
  keys: StorageKeys;
  retentionMs: number;
  /** The longest ongoing access: its verification's tombstone must outlive it. */
  maxAccessMs?: number;
  clock?: () => number;
  /** Told after every write (create, transition, removal), so waiting polls on any instance answer at once. */
  changes?: ChangeNotifier;
}): VerificationStore {
  const { kv, keys, retentionMs, changes } = deps;
  const clock = deps.clock ?? Date.now;
  const parse = (raw: string): VersionedMeta => ({
    meta: metaSchema.parse(JSON.parse(raw)),
    version: raw,
  });
  return {
    parse,
    async read(id) {
      const raw = await kv.get(keys.meta(id));
      return raw === null ? null : parse(raw);
    },
    readStored: (id) => kv.get(keys.meta(id)),
    readStoredCounting: (id, subject, windowMs) =>
      kv.getAndCount(keys.meta(id), keys.pollCount(id, subject), windowMs),
    async create(id, meta) {
      // Outlives the records, so a read after deletion or retention answers "gone" rather than "unknown".
      const ongoingMs = meta.access === 'ongoing' ? (deps.maxAccessMs ?? 0) : 0;
      await kv.set(keys.tombstone(id), '1', retentionMs + ongoingMs + TOMBSTONE_EXTRA_MS);
      const raw = JSON.stringify(meta);
      await kv.set(keys.meta(id), raw, retentionMs);
      await changes?.publish(id, raw);
    },
    existed: async (id) => (await kv.get(keys.tombstone(id))) !== null,
    async transition(id, previous, next, companions, options) {
      const raw = JSON.stringify(next);
      const written = await kv.compareAndSet(
        keys.meta(id),
        previous.version,
        raw,
        keepMsOf(next, clock(), retentionMs),
        companions,
      );
      if (written && options?.announce !== false) await changes?.publish(id, raw);
      return written;
    },
    async announce(id, meta) {
      await changes?.publish(id, JSON.stringify(meta));
    },
    async transitionFresh(id, change) {
      for (;;) {
        const current = await this.read(id);
        if (!current) return null;
        const next = change(current.meta);
        if (next === null) return { written: false, meta: current.meta };
        if (await this.transition(id, current, next.meta, next.companions))
          return { written: true, meta: next.meta };
      }
    },
    async removeAll(id) {
      await kv.delete(keys.allOf(id));
      await changes?.publish(id, null);
    },
  };
}
