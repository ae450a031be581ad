import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';

const flowRecordSchema = z.object({
  verificationId: z.string(),
  /** Hash of the browser session's owner binding: the callback must come from the same browser. */
  ownerHash: z.string(),
  flowId: z.string(),
  createdAt: z.number(),
});
export type FlowRecord = z.infer<typeof flowRecordSchema>;

/** 256 bits from the CSPRNG; sent to the provider and back, never stored in clear. */
export function newState(): string {
  return randomBytes(32).toString('base64url');
}

export function hashOf(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * One record per started flow, keyed by the hash of its state, so two tabs can start flows at once and
 * a state can be consumed exactly once even when two callbacks race.
 */
export interface FlowStore {
  create(stateHash: string, record: FlowRecord): Promise<void>;
  find(stateHash: string): Promise<{ record: FlowRecord; raw: string } | null>;
  /** True for exactly one caller per record. */
  consume(stateHash: string, raw: string): Promise<boolean>;
  remove(stateHash: string): Promise<void>;
}

export function createFlowStore(deps: { kv: KeyValueStore; keys: StorageKeys; ttlMs: number }): FlowStore {
  const { kv, keys, ttlMs } = deps;
  return {
    create: (stateHash, record) => kv.set(keys.flow(stateHash), JSON.stringify(record), ttlMs),
    async find(stateHash) {
      const raw = await kv.get(keys.flow(stateHash));
      if (raw === null) return null;
      const parsed = flowRecordSchema.safeParse(JSON.parse(raw));
      return parsed.success ? { record: parsed.data, raw } : null;
    },
    consume: (stateHash, raw) => kv.deleteIfEquals(keys.flow(stateHash), raw),
    remove: (stateHash) => kv.delete([keys.flow(stateHash)]),
  };
}
