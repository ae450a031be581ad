import { dependencyUnavailable } from '../errors';
import type { CompanionWrite, KeyValueStore } from './key-value-store';
import type { RedisCommands } from './redis-connection';

// KEYS[1] the key, KEYS[2..] companions. ARGV: hasExpected, expected, hasNext, next, ttlMs, then per companion: hasValue, value, ttlMs.
const COMPARE_AND_SET = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == '1' then redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5]) else redis.call('DEL', KEYS[1]) end
for i = 2, #KEYS do
  local base = 5 + (i - 2) * 3
  if ARGV[base + 1] == '1' then redis.call('SET', KEYS[i], ARGV[base + 2], 'PX', ARGV[base + 3]) else redis.call('DEL', KEYS[i]) end
end
return 1`;

const DELETE_IF_EQUALS = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const EXTEND_IF_EQUALS = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const INCREMENT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

/** Exported for bench/floor-server.ts, which must make the same Redis reads per poll. */
export const GET_AND_COUNT = `
local count = redis.call('INCR', KEYS[2])
if count == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[2])
if ttl < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {redis.call('GET', KEYS[1]), count, ttl}`;

const ADD_TO_SET = `
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

const SET_MEMBERS = `return redis.call('SMEMBERS', KEYS[1])`;

/** The KeyValueStore contract on Redis; single-key atomicity via Lua scripts. */
export function createRedisKeyValueStore(redis: RedisCommands): KeyValueStore {
  const call = async <T>(op: () => Promise<T>): Promise<T> => {
    try {
      return await op();
    } catch (err) {
      throw dependencyUnavailable(err);
    }
  };
  const px = (ttlMs: number) => ({ type: 'PX' as const, value: Math.max(1, Math.round(ttlMs)) });

  return {
    get: (key) => call(() => redis.get(key)),
    getMany: (keys) => call(() => redis.mGet(keys)),
    set: (key, value, ttlMs) =>
      call(async () => void (await redis.set(key, value, { expiration: px(ttlMs) }))),
    setIfAbsent: (key, value, ttlMs) =>
      call(async () => (await redis.set(key, value, { expiration: px(ttlMs), condition: 'NX' })) === 'OK'),
    compareAndSet: (key, expected, next, ttlMs, companions: CompanionWrite[] = []) =>
      call(async () => {
        const args = [
          expected === null ? '0' : '1',
          expected ?? '',
          next === null ? '0' : '1',
          next ?? '',
          String(Math.max(1, Math.round(ttlMs))),
        ];
        for (const c of companions)
          args.push(c.value === null ? '0' : '1', c.value ?? '', String(Math.max(1, Math.round(c.ttlMs))));
        const keys = [key, ...companions.map((c) => c.key)];
        return (await redis.eval(COMPARE_AND_SET, { keys, arguments: args })) === 1;
      }),
    deleteIfEquals: (key, expected) =>
      call(async () => (await redis.eval(DELETE_IF_EQUALS, { keys: [key], arguments: [expected] })) === 1),
    extendIfEquals: (key, expected, ttlMs) =>
      call(
        async () =>
          (await redis.eval(EXTEND_IF_EQUALS, {
            keys: [key],
            arguments: [expected, String(Math.max(1, Math.round(ttlMs)))],
          })) === 1,
      ),
    delete: (keys) => call(async () => void (keys.length > 0 && (await redis.del(keys)))),
    increment: (key, windowMs) =>
      call(async () => {
        const [count, ttl] = (await redis.eval(INCREMENT, {
          keys: [key],
          arguments: [String(windowMs)],
        })) as [number, number];
        return { count, resetInMs: ttl };
      }),
    getAndCount: (key, counterKey, windowMs) =>
      call(async () => {
        const [value, count, ttl] = (await redis.eval(GET_AND_COUNT, {
          keys: [key, counterKey],
          arguments: [String(windowMs)],
        })) as [string | null, number, number];
        return { value: value ?? null, count, resetInMs: ttl };
      }),
    addToSet: (key, member, ttlMs) =>
      call(
        async () =>
          void (await redis.eval(ADD_TO_SET, {
            keys: [key],
            arguments: [member, String(Math.max(1, Math.round(ttlMs)))],
          })),
      ),
    setMembers: (key) =>
      call(async () => (await redis.eval(SET_MEMBERS, { keys: [key], arguments: [] })) as string[]),
    ping: () => call(async () => void (await redis.get('{ping}'))),
  };
}
