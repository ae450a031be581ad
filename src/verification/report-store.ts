import type { EnvelopeCipher } from '../storage/envelope-cipher';
import type { CompanionWrite, KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';

/** A verification's report: sealed at rest, bound to its key, which only this store names. */
export interface ReportStore {
  /** The report's JSON text; null when it is gone (retention, deletion) or was never stored. */
  read(verificationId: string): Promise<string | null>;
  /** The write that stores the report, sealed, to go with the state change that makes it current. */
  writeOf(verificationId: string, reportJson: string, ttlMs: number): CompanionWrite;
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
    writeOf(id, reportJson, ttlMs) {
      const key = keys.report(id);
      return { key, value: cipher.seal(reportJson, key), ttlMs };
    },
  };
}
