/**
 * Background work that must outlive the request (and the process) that caused it. A job is named,
 * has a stable id (adding a job whose id exists is a no-op, so enqueueing is idempotent) and plain
 * JSON data. Processors are plain functions returning an outcome; the queue implementation turns
 * the outcome into the engine's mechanics (BullMQ's delayed set, or timers in the in-memory queue).
 */
export type JobOutcome =
  /** Finished; nothing more to do. */
  | { kind: 'done'; result: string }
  /** Run the same job again later (not ready yet, transient failure): not counted as a failure. */
  | { kind: 'retry'; delayMs: number; reason: string }
  /** Give up for good: the job is kept as a dead letter with the reason. */
  | { kind: 'failed'; reason: string };

export interface JobRun {
  id: string;
  /** How many times this job has started, this run included (1 for the first run). */
  run: number;
}

export type Processor = (data: Record<string, unknown>, run: JobRun) => Promise<JobOutcome>;

export interface JobSpec {
  name: string;
  id: string;
  data: Record<string, unknown>;
  /** Run no earlier than this many ms from now (0: as soon as a worker is free). */
  delayMs?: number;
}

export interface DeadLetter {
  id: string;
  name: string;
  data: Record<string, unknown>;
  attempts: number;
  reason: string;
  failedAt: number;
}

export interface QueueCounts {
  waiting: number;
  delayed: number;
  active: number;
  failed: number;
  /** Age of the oldest job waiting for a worker (not of delayed ones), 0 when none waits. */
  oldestWaitingAgeMs: number;
}

export interface JobQueue {
  /** Adds the job unless one with the same id is waiting, delayed or running. */
  add(spec: JobSpec): Promise<void>;
  /**
   * Makes sure the job runs now: adds it without delay, or brings it forward when it waits in the
   * delayed set. A job that is running already is left alone (its processor re-reads state).
   */
  runNow(spec: JobSpec): Promise<void>;
  /** Dead letters (jobs that gave up), newest first. */
  failed(limit: number): Promise<DeadLetter[]>;
  /** Moves a dead letter back to run again with the same id and data. False when unknown. */
  retryFailed(id: string): Promise<boolean>;
  counts(): Promise<QueueCounts>;
  /** Starts working on jobs with these processors (by job name). */
  start(processors: Record<string, Processor>): void;
  /** Stops taking jobs and waits for running ones (bounded); jobs not finished stay in the queue. */
  close(): Promise<void>;
}

export const done = (result: string): JobOutcome => ({ kind: 'done', result });
export const retry = (delayMs: number, reason: string): JobOutcome => ({
  kind: 'retry',
  delayMs: Math.max(0, Math.round(delayMs)),
  reason,
});
export const giveUp = (reason: string): JobOutcome => ({ kind: 'failed', reason });

/** Counts every run's outcome by job name. */
export function instrumented(
  processors: Record<string, Processor>,
  observe: (name: string, outcome: JobOutcome['kind'] | 'error') => void,
): Record<string, Processor> {
  return Object.fromEntries(
    Object.entries(processors).map(([name, processor]) => [
      name,
      async (data: Record<string, unknown>, run: JobRun) => {
        try {
          const outcome = await processor(data, run);
          observe(name, outcome.kind);
          return outcome;
        } catch (err) {
          observe(name, 'error');
          throw err;
        }
      },
    ]),
  );
}
