import type { EnvelopeCipher } from '../storage/envelope-cipher';
import type { KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';

/** Reads a verification's stored report (sealed at rest, bound to its key). */
export interface ReportStore {
  /** The report's JSON text; null when it is gone (retention, deletion) or was never stored. */
  read(verificationId: string): Promise<string | null>;
}

export function createReportStore(deps: {
  kv: KeyValueStore;
  keys: StorageKeys;
  cipher: EnvelopeCipher;
}): ReportStore {
  const { kv, keys, cipher } = deps;
  return {
    async read(id) {
      const key = keys.report(id);
      const sealed = await kv.get(key);
      return sealed === null ? null : cipher.open(sealed, key);
    },
  };
}
