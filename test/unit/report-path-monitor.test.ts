import { createLogger } from '../../src/logger';
import { createReportPathMonitor } from '../../src/verification/report-path-monitor';
import { LogCapture } from '../support/harness';

describe('report path monitor', () => {
  const setup = () => {
    let now = 0;
    let counted = 0;
    const logs = new LogCapture();
    const monitor = createReportPathMonitor({
      alertAfterMs: 60_000,
      reportPath: '/rest/income-reports/{id}',
      logger: createLogger('info', logs),
      clock: () => now,
      onMisconfigured: () => counted++,
    });
    return { monitor, logs, advance: (ms: number) => (now += ms), counted: () => counted };
  };

  it('judges misconfigured only after every request answered 404 for the threshold; logs and counts once', () => {
    const { monitor, logs, advance, counted } = setup();
    expect(monitor.record('f1', 'not_found')).toBe(false);
    advance(30_000);
    expect(monitor.record('f2', 'not_found')).toBe(false);
    advance(30_000);
    expect(monitor.record('f1', 'not_found')).toBe(true);
    expect(monitor.record('f2', 'not_found')).toBe(true);
    expect(counted()).toBe(1);
    expect(logs.lines).toHaveLength(1);
    expect(JSON.parse(logs.lines[0] as string)).toMatchObject({
      level: 50,
      setting: 'FINX_REPORT_PATH',
      flows: 2,
    });
  });

  it('a report found anywhere ends the streak: slow reports alone are not a misconfiguration', () => {
    const { monitor, advance, counted } = setup();
    monitor.record('f1', 'not_found');
    advance(59_000);
    monitor.record('f2', 'found');
    advance(59_000);
    expect(monitor.record('f1', 'not_found')).toBe(false);
    expect(monitor.record('f3', 'other')).toBe(false);
    expect(counted()).toBe(0);
  });

  it('after a found report, a new streak alerts again', () => {
    const { monitor, advance, counted } = setup();
    monitor.record('f1', 'not_found');
    advance(60_000);
    expect(monitor.record('f1', 'not_found')).toBe(true);
    monitor.record('f2', 'found');
    expect(monitor.record('f3', 'not_found')).toBe(false);
    advance(60_000);
    expect(monitor.record('f3', 'not_found')).toBe(true);
    expect(counted()).toBe(2);
  });
});
