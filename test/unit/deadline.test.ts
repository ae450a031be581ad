import { createDeadlines, DeadlineExceeded } from '../../src/storage/deadline';

describe('deadlines', () => {
  it('passes results and errors through', async () => {
    const deadlines = createDeadlines(1000);
    await expect(deadlines.within(Promise.resolve(42))).resolves.toBe(42);
    await expect(deadlines.within(Promise.reject(new Error('no')))).rejects.toThrow('no');
    deadlines.stop();
  });

  it('rejects an operation that does not settle in time, within the sweep interval', async () => {
    const deadlines = createDeadlines(100);
    const started = performance.now();
    await expect(deadlines.within(new Promise(() => undefined))).rejects.toBeInstanceOf(DeadlineExceeded);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(95);
    expect(elapsed).toBeLessThan(200);
    deadlines.stop();
  });
});
