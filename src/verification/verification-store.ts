import { z } from 'zod';
import type { CompanionWrite, KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';

export const verificationStatuses = [
  'awaiting_user',
  'processing',
  'ready',
  'cancelled',
  'failed',
  'expired',
] as const;
export type VerificationStatus = (typeof verificationStatuses)[number];

const metaSchema = z.object({
  status: z.enum(verificationStatuses),
  flowId: z.string(),
  createdAt: z.number(),
  /** Past this the user has not come back from the widget: the flow counts as expired. */
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
});
export type VerificationMeta = z.infer<typeof metaSchema>;

export interface VersionedMeta {
  meta: VerificationMeta;
  version: string;
}

/** The state of one verification (no secrets: status, flow id, timestamps), in its own key, changed by compare-and-set. */
export interface VerificationStore {
  read(id: string): Promise<VersionedMeta | null>;
  create(id: string, meta: VerificationMeta): Promise<void>;
  /** Moves from `previous` to `next` together with the companion writes; false when `previous` is no longer current. */
  transition(
    id: string,
    previous: VersionedMeta,
    next: VerificationMeta,
    companions?: CompanionWrite[],
  ): Promise<boolean>;
  /** Deletes everything stored for the verification (meta, tokens, report, locks). */
  removeAll(id: string): Promise<void>;
  parse(id: string, raw: string): VersionedMeta;
}

export function createVerificationStore(deps: {
  kv: KeyValueStore;
  keys: StorageKeys;
  retentionMs: number;
}): VerificationStore {
  const { kv, keys, retentionMs } = deps;
  const parse = (_id: string, raw: string): VersionedMeta => ({
    meta: metaSchema.parse(JSON.parse(raw)),
    version: raw,
  });
  return {
    parse,
    async read(id) {
      const raw = await kv.get(keys.meta(id));
      return raw === null ? null : parse(id, raw);
    },
    async create(id, meta) {
      await kv.set(keys.meta(id), JSON.stringify(meta), retentionMs);
    },
    transition: (id, previous, next, companions) =>
      kv.compareAndSet(keys.meta(id), previous.version, JSON.stringify(next), retentionMs, companions),
    removeAll: (id) => kv.delete(keys.allOf(id)),
  };
}
