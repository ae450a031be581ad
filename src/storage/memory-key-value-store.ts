import type { CompanionWrite, KeyValueStore } from './key-value-store';

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * The in-process store for the embedded development mode. Same contract as the Redis store
 * (test/integration/key-value-store.contract.test.ts runs one suite against both).
 */
export function createMemoryKeyValueStore(now: () => number = Date.now): KeyValueStore & { size(): number } {
  const entries = new Map<string, Entry>();
  let lastSweep = now();

  const read = (key: string): string | null => {
    const entry = entries.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return null;
    }
    return entry.value;
  };
  const write = (key: string, value: string | null, ttlMs: number) => {
    sweep();
    if (value === null) entries.delete(key);
    else entries.set(key, { value, expiresAt: now() + ttlMs });
  };
  // Expired keys nobody reads again would otherwise stay forever.
  const sweep = () => {
    const t = now();
    if (t - lastSweep < 10_000) return;
    lastSweep = t;
    for (const [key, entry] of entries) if (entry.expiresAt <= t) entries.delete(key);
  };

  const increment = (key: string, windowMs: number) => {
    const entry = read(key) === null ? undefined : entries.get(key);
    if (!entry) {
      write(key, '1', windowMs);
      return { count: 1, resetInMs: windowMs };
    }
    entry.value = String(Number(entry.value) + 1);
    return { count: Number(entry.value), resetInMs: entry.expiresAt - now() };
  };

  return {
    async get(key) {
      return read(key);
    },
    async getMany(keys) {
      return keys.map(read);
    },
    async set(key, value, ttlMs) {
      write(key, value, ttlMs);
    },
    async setIfAbsent(key, value, ttlMs) {
      if (read(key) !== null) return false;
      write(key, value, ttlMs);
      return true;
    },
    async compareAndSet(key, expected, next, ttlMs, companions: CompanionWrite[] = []) {
      if (read(key) !== expected) return false;
      write(key, next, ttlMs);
      for (const c of companions) write(c.key, c.value, c.ttlMs);
      return true;
    },
    async deleteIfEquals(key, expected) {
      if (read(key) !== expected) return false;
      entries.delete(key);
      return true;
    },
    async extendIfEquals(key, expected, ttlMs) {
      if (read(key) !== expected) return false;
      write(key, expected, ttlMs);
      return true;
    },
    async delete(keys) {
      for (const key of keys) entries.delete(key);
    },
    increment: async (key, windowMs) => increment(key, windowMs),
    async getAndCount(key, counterKey, windowMs) {
      const { count, resetInMs } = increment(counterKey, windowMs);
      return { value: read(key), count, resetInMs };
    },
    async addToSet(key, member, ttlMs) {
      const members = new Set(JSON.parse(read(key) ?? '[]') as string[]);
      members.add(member);
      write(key, JSON.stringify([...members]), ttlMs);
    },
    async setMembers(key) {
      return JSON.parse(read(key) ?? '[]') as string[];
    },
    async ping() {},
    size: () => entries.size,
  };
}
