/** A write that happens together with a compare-and-set, atomically. `value: null` deletes the key. */
export interface CompanionWrite {
  key: string;
  value: string | null;
  ttlMs: number;
}

/**
 * The few storage operations the server needs, so that Redis (single node or cluster) and the
 * in-process store behave the same. Keys passed together must share a hash tag (see storage-keys).
 * Every operation rejects with an AppError `dependency_unavailable` when the store cannot answer in time.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | null>;
  getMany(keys: string[]): Promise<Array<string | null>>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** SET NX: true when this call created the key. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /**
   * Writes `next` (null deletes) only if the key currently holds `expected` (null: absent),
   * together with the companion writes. True when written.
   */
  compareAndSet(
    key: string,
    expected: string | null,
    next: string | null,
    ttlMs: number,
    companions?: CompanionWrite[],
  ): Promise<boolean>;
  /** Deletes the key only if it holds `expected`; true when this call deleted it (single-use consumption, lock release). */
  deleteIfEquals(key: string, expected: string): Promise<boolean>;
  /** Renews the TTL only if the key holds `expected` (lock lease renewal). */
  extendIfEquals(key: string, expected: string, ttlMs: number): Promise<boolean>;
  delete(keys: string[]): Promise<void>;
  /** Fixed-window counter: increments and returns the count and the window's remaining time. */
  increment(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  /**
   * GET `key` and count one more use of `counterKey` in a fixed window, in one round trip (the poll
   * path: state and rate limit together). Both keys must share a hash tag.
   */
  getAndCount(
    key: string,
    counterKey: string,
    windowMs: number,
  ): Promise<{ value: string | null; count: number; resetInMs: number }>;
  /** Adds `member` to the set at `key` and renews the set's TTL, in one step (an index such as owner → verifications). */
  addToSet(key: string, member: string, ttlMs: number): Promise<void>;
  /** The members of the set at `key`; empty when it does not exist. */
  setMembers(key: string): Promise<string[]>;
  ping(): Promise<void>;
}
