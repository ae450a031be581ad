import { z } from 'zod';
import type { CompanionWrite, KeyValueStore } from '../storage/key-value-store';
import type { EnvelopeCipher } from '../storage/envelope-cipher';
import type { StorageKeys } from '../storage/storage-keys';

const tokenRecordSchema = z.object({
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1).optional(),
  accessExpiresAt: z.number(),
  /** When to refresh: the skew before expiry, but never earlier than half the token's lifetime. */
  refreshAt: z.number(),
  /** Set when a refresh may have spent the refresh token without us learning the new one. */
  uncertain: z.boolean().optional(),
  /** When the provider issued this pair: the refresh token's inactivity clock starts here. */
  issuedAt: z.number().optional(),
  /** Ongoing access: kept until then (its end) rather than for the retention period. */
  keepUntil: z.number().optional(),
});
export type TokenRecord = z.infer<typeof tokenRecordSchema>;

/** A record with the exact stored value it was read from: that value is the version compare-and-set checks. */
export interface VersionedTokens {
  record: TokenRecord;
  version: string;
}

export interface TokenStore {
  read(verificationId: string): Promise<VersionedTokens | null>;
  /** Companion write for the atomic script that completes a callback. */
  initialWrite(verificationId: string, record: TokenRecord): CompanionWrite;
  /** Replaces `previous` with `next`; false (nothing written) when someone else wrote in between. */
  replace(verificationId: string, previous: VersionedTokens, next: TokenRecord): Promise<boolean>;
  /** Deletes the tokens only if they are still `previous`. */
  remove(verificationId: string, previous: VersionedTokens): Promise<boolean>;
}

/**
 * Tokens of one verification in their own key, sealed with AES-256-GCM and written only by
 * compare-and-set, so a writer holding an old version can never overwrite a newer refresh token.
 */
export function createTokenStore(deps: {
  kv: KeyValueStore;
  keys: StorageKeys;
  cipher: EnvelopeCipher;
  ttlMs: number;
  clock?: () => number;
}): TokenStore {
  const { kv, keys, cipher } = deps;
  const clock = deps.clock ?? Date.now;
  const seal = (id: string, record: TokenRecord) => cipher.seal(JSON.stringify(record), keys.tokens(id));
  const ttlOf = (record: TokenRecord) =>
    record.keepUntil === undefined ? deps.ttlMs : Math.max(1, record.keepUntil - clock());
  return {
    async read(id) {
      const version = await kv.get(keys.tokens(id));
      if (version === null) return null;
      const record = tokenRecordSchema.parse(JSON.parse(cipher.open(version, keys.tokens(id))));
      return { record, version };
    },
    initialWrite: (id, record) => ({ key: keys.tokens(id), value: seal(id, record), ttlMs: ttlOf(record) }),
    replace: (id, previous, next) =>
      kv.compareAndSet(keys.tokens(id), previous.version, seal(id, next), ttlOf(next)),
    remove: (id, previous) => kv.deleteIfEquals(keys.tokens(id), previous.version),
  };
}
