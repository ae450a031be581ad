/** An in-memory map whose entries expire; expired entries are invisible at once and swept periodically. */
export interface ExpiringStore<V> {
  set(key: string, value: V, ttlMs: number): void;
  get(key: string): V | undefined;
  /** Removes and returns the entry in one synchronous step, so a value can be consumed only once. */
  take(key: string): V | undefined;
  delete(key: string): void;
  clear(): void;
  readonly size: number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/**
 * Sweeping happens on writes rather than on a timer: the store then needs no lifecycle, and it
 * can only grow while something writes to it.
 */
export function createExpiringStore<V>(now: () => number, sweepEveryMs = 30_000): ExpiringStore<V> {
  const entries = new Map<string, Entry<V>>();
  let lastSweep = now();

  function sweep(at: number): void {
    for (const [key, entry] of entries) if (entry.expiresAt <= at) entries.delete(key);
    lastSweep = at;
  }

  function live(key: string): Entry<V> | undefined {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  return {
    set(key, value, ttlMs) {
      const at = now();
      if (at - lastSweep >= sweepEveryMs) sweep(at);
      entries.delete(key); // re-inserting keeps the map roughly ordered by write time
      entries.set(key, { value, expiresAt: at + ttlMs });
    },
    get: (key) => live(key)?.value,
    take(key) {
      const entry = live(key);
      entries.delete(key);
      return entry?.value;
    },
    delete: (key) => void entries.delete(key),
    clear: () => entries.clear(),
    get size() {
      return entries.size;
    },
  };
}
