import { randomBytes } from 'node:crypto';
import pino from 'pino';
import type { KeyValueStore } from '../../src/storage/key-value-store';
import { createMemoryKeyValueStore } from '../../src/storage/memory-key-value-store';
import { connectRedis, type RedisConnection } from '../../src/storage/redis-connection';
import { createRedisKeyValueStore } from '../../src/storage/redis-key-value-store';
import { inspectRedis, redisUrl } from '../support/harness';

let connection: RedisConnection;
const prefix = `test:kv:${randomBytes(4).toString('hex')}:`;

beforeAll(async () => {
  connection = await connectRedis(
    { url: redisUrl(), clusterNodes: undefined, commandTimeoutMs: 2000 },
    pino({ level: 'silent' }),
  );
});
afterAll(async () => {
  const redis = await inspectRedis();
  await redis.dropPrefix(prefix);
  await redis.close();
  await connection.close();
});

/** One suite, two implementations: the in-process store must behave like Redis. */
describe.each([
  ['memory', () => createMemoryKeyValueStore()],
  ['redis', () => createRedisKeyValueStore(connection.commands)],
])('KeyValueStore contract: %s', (_name, make: () => KeyValueStore) => {
  let kv: KeyValueStore;
  let n = 0;
  const key = (name = 'k') => `${prefix}{t${n}}:${name}`;
  beforeEach(() => {
    kv = make();
    n++;
  });

  it('get/set with a TTL, and the value expires', async () => {
    expect(await kv.get(key())).toBeNull();
    await kv.set(key(), 'v', 80);
    expect(await kv.get(key())).toBe('v');
    await new Promise((r) => setTimeout(r, 120));
    expect(await kv.get(key())).toBeNull();
  });

  it('getMany answers in key order with nulls for missing keys', async () => {
    await kv.set(key('a'), '1', 10_000);
    await kv.set(key('c'), '3', 10_000);
    expect(await kv.getMany([key('a'), key('b'), key('c')])).toEqual(['1', null, '3']);
  });

  it('setIfAbsent creates once', async () => {
    expect(await kv.setIfAbsent(key(), 'first', 10_000)).toBe(true);
    expect(await kv.setIfAbsent(key(), 'second', 10_000)).toBe(false);
    expect(await kv.get(key())).toBe('first');
  });

  it('compareAndSet writes only over the expected value, with its companions, atomically', async () => {
    expect(await kv.compareAndSet(key(), 'nope', 'x', 10_000)).toBe(false);
    expect(await kv.get(key())).toBeNull();
    expect(
      await kv.compareAndSet(key(), null, 'v1', 10_000, [
        { key: key('c'), value: 'companion', ttlMs: 10_000 },
      ]),
    ).toBe(true);
    expect(await kv.get(key('c'))).toBe('companion');
    expect(await kv.compareAndSet(key(), null, 'v2', 10_000)).toBe(false);
    expect(
      await kv.compareAndSet(key(), 'stale', 'v2', 10_000, [{ key: key('c'), value: null, ttlMs: 1 }]),
    ).toBe(false);
    expect(await kv.get(key('c'))).toBe('companion');
    expect(
      await kv.compareAndSet(key(), 'v1', 'v2', 10_000, [{ key: key('c'), value: null, ttlMs: 1 }]),
    ).toBe(true);
    expect(await kv.getMany([key(), key('c')])).toEqual(['v2', null]);
    expect(await kv.compareAndSet(key(), 'v2', null, 1)).toBe(true);
    expect(await kv.get(key())).toBeNull();
  });

  it('compareAndSet: of many concurrent writers holding the same version, exactly one wins', async () => {
    await kv.set(key(), 'v0', 10_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => kv.compareAndSet(key(), 'v0', `w${i}`, 10_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('deleteIfEquals consumes exactly once', async () => {
    await kv.set(key(), 'token', 10_000);
    expect(await kv.deleteIfEquals(key(), 'other')).toBe(false);
    const results = await Promise.all([kv.deleteIfEquals(key(), 'token'), kv.deleteIfEquals(key(), 'token')]);
    expect(results.sort()).toEqual([false, true]);
    expect(await kv.get(key())).toBeNull();
  });

  it("extendIfEquals renews only the owner's lease", async () => {
    await kv.set(key(), 'owner', 100);
    expect(await kv.extendIfEquals(key(), 'intruder', 10_000)).toBe(false);
    expect(await kv.extendIfEquals(key(), 'owner', 10_000)).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
    expect(await kv.get(key())).toBe('owner');
  });

  it('increment counts within a window and starts again after it', async () => {
    expect((await kv.increment(key(), 100)).count).toBe(1);
    const second = await kv.increment(key(), 100);
    expect(second.count).toBe(2);
    expect(second.resetInMs).toBeGreaterThan(0);
    expect(second.resetInMs).toBeLessThanOrEqual(100);
    await new Promise((r) => setTimeout(r, 130));
    expect((await kv.increment(key(), 100)).count).toBe(1);
  });

  it('delete removes keys', async () => {
    await kv.set(key('a'), '1', 10_000);
    await kv.set(key('b'), '2', 10_000);
    await kv.delete([key('a'), key('b')]);
    expect(await kv.getMany([key('a'), key('b')])).toEqual([null, null]);
  });

  it('getAndCount reads a key and counts a use of another in one step', async () => {
    await kv.set(key('state'), 'value', 10_000);
    const first = await kv.getAndCount(key('state'), key('count'), 100);
    expect(first).toMatchObject({ value: 'value', count: 1 });
    expect(await kv.getAndCount(key('missing'), key('count'), 100)).toMatchObject({ value: null, count: 2 });
    await new Promise((r) => setTimeout(r, 130));
    expect((await kv.getAndCount(key('state'), key('count'), 100)).count).toBe(1);
  });

  it('addToSet keeps each member once, renews the TTL, and the set expires', async () => {
    expect(await kv.setMembers(key('set'))).toEqual([]);
    await kv.addToSet(key('set'), 'a', 100);
    await kv.addToSet(key('set'), 'b', 100);
    await kv.addToSet(key('set'), 'a', 100);
    expect((await kv.setMembers(key('set'))).sort()).toEqual(['a', 'b']);
    await new Promise((r) => setTimeout(r, 60));
    await kv.addToSet(key('set'), 'c', 100);
    await new Promise((r) => setTimeout(r, 60));
    expect((await kv.setMembers(key('set'))).sort()).toEqual(['a', 'b', 'c']);
    await new Promise((r) => setTimeout(r, 80));
    expect(await kv.setMembers(key('set'))).toEqual([]);
  });
});
