import type { KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';

/**
 * The verifications each browser (owner hash) started, so a DELETE forgets all of them. One Redis
 * set per owner under its own hash tag: every operation touches one key, so it works on a Cluster.
 */
export interface OwnerIndex {
  add(ownerHash: string, verificationId: string): Promise<void>;
  list(ownerHash: string): Promise<string[]>;
  remove(ownerHash: string): Promise<void>;
}

/**
 * `ttlMs` must outlast every record of a verification started now: its flow waits up to FLOW_TTL_S,
 * its report may take REPORT_READY_TIMEOUT_S, and its records are kept RETENTION_S after the last change.
 */
export function createOwnerIndex(deps: { kv: KeyValueStore; keys: StorageKeys; ttlMs: number }): OwnerIndex {
  const { kv, keys, ttlMs } = deps;
  return {
    add: (ownerHash, id) => kv.addToSet(keys.ownerVerifications(ownerHash), id, ttlMs),
    list: (ownerHash) => kv.setMembers(keys.ownerVerifications(ownerHash)),
    remove: (ownerHash) => kv.delete([keys.ownerVerifications(ownerHash)]),
  };
}
