import { readinessDelayMs } from '../../src/jobs/verification-job';

// The schedule is what bounds "provider ready → readable by the lender": a report that turns
// ready just after a request waits for the next one, so the gap between requests is the lag.
describe('the readiness schedule', () => {
  const interval = 2000;

  it('never asks the provider twice within one poll interval', () => {
    for (let attempts = 1; attempts <= 20; attempts++)
      for (const random of [0, 0.25, 0.5, 0.999])
        expect(readinessDelayMs(attempts, interval, random)).toBeGreaterThanOrEqual(interval);
  });

  it('never leaves more than 1.8 intervals between two requests, so a ready report waits < 2 intervals', () => {
    for (let attempts = 1; attempts <= 50; attempts++)
      expect(readinessDelayMs(attempts, interval, 0.999999)).toBeLessThanOrEqual(1.8 * interval);
  });

  it('grows from one interval towards the cap (×1.5 per attempt)', () => {
    expect(readinessDelayMs(1, interval, 0.5)).toBe(interval);
    expect(readinessDelayMs(2, interval, 0.5)).toBe(1.5 * interval);
    expect(readinessDelayMs(9, interval, 0.5)).toBe(1.5 * interval);
  });
});
