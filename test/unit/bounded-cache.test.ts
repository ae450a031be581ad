import { BoundedCache } from '../../src/bounded-cache';

describe('BoundedCache', () => {
  it('holds at most its limit, dropping the least recently used generation', () => {
    const cache = new BoundedCache<number, string>(4);
    for (let i = 0; i < 10; i++) cache.set(i, `v${i}`);
    expect(cache.size).toBeLessThanOrEqual(4);
    expect(cache.get(9)).toBe('v9');
    expect(cache.get(0)).toBeUndefined();
  });

  it('keeps an entry that is read, even when newer ones arrive', () => {
    const cache = new BoundedCache<string, number>(4);
    cache.set('kept', 1);
    cache.set('a', 2);
    cache.set('b', 3); // 'kept' and 'a' move to the previous generation
    expect(cache.get('kept')).toBe(1); // brought forward
    cache.set('c', 4); // the current generation is full again: 'a' is dropped
    expect(cache.get('kept')).toBe(1);
    expect(cache.get('a')).toBeUndefined();
  });

  it('a set replaces the value, wherever the entry is', () => {
    const cache = new BoundedCache<string, number>(4);
    cache.set('x', 1);
    cache.set('y', 2);
    cache.set('z', 3);
    cache.set('x', 10);
    expect(cache.get('x')).toBe(10);
    expect(cache.size).toBeLessThanOrEqual(4);
  });

  it('refuses a limit below 2', () => {
    expect(() => new BoundedCache(1)).toThrow('at least 2');
  });
});
