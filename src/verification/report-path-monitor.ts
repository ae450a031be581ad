import type { Logger } from 'pino';

/** What one upstream report request said about the report path. */
export type ReportAnswer = 'not_found' | 'found' | 'other';

/**
 * Tells a wrong report path (FINX_REPORT_PATH) from reports that are merely not ready yet. Both
 * answer 404, so one flow alone cannot tell; but when every report request of every flow has
 * answered 404 for longer than a report normally takes, the path is the likelier culprit.
 */
export interface ReportPathMonitor {
  /** Records one answer for a flow; true while the path is judged misconfigured (the flow should end). */
  record(flowId: string, answer: ReportAnswer): boolean;
}

export interface ReportPathMonitorDeps {
  /** How long an unbroken run of 404s (no report found anywhere) may last before it counts as misconfiguration. */
  alertAfterMs: number;
  /** The configured path, named in the log line. */
  reportPath: string;
  logger: Logger;
  clock: () => number;
  /** Counted once per detected misconfiguration (a metric). */
  onMisconfigured: () => void;
}

const MAX_TRACKED_FLOWS = 2000;

/**
 * In-process: each instance judges from the requests it made itself, which is enough to name the
 * problem within minutes of the first report request.
 */
export function createReportPathMonitor(deps: ReportPathMonitorDeps): ReportPathMonitor {
  /** Flows whose report requests have all answered 404 since the last report was found, with their first 404. */
  const notFoundSince = new Map<string, number>();
  let streakStart: number | undefined;
  let alerted = false;

  return {
    record(flowId, answer) {
      const now = deps.clock();
      if (answer === 'found') {
        notFoundSince.clear();
        streakStart = undefined;
        alerted = false;
        return false;
      }
      if (answer === 'other') return alerted;
      if (!notFoundSince.has(flowId)) {
        if (notFoundSince.size >= MAX_TRACKED_FLOWS)
          notFoundSince.delete(notFoundSince.keys().next().value as string);
        notFoundSince.set(flowId, now);
      }
      streakStart ??= now;
      if (!alerted && now - streakStart >= deps.alertAfterMs) {
        alerted = true;
        deps.onMisconfigured();
        deps.logger.error(
          {
            setting: 'FINX_REPORT_PATH',
            reportPath: deps.reportPath,
            flows: notFoundSince.size,
            notFoundForS: Math.round((now - streakStart) / 1000),
          },
          'every income report request has answered 404 since the first one: check FINX_REPORT_PATH',
        );
      }
      return alerted;
    },
  };
}
