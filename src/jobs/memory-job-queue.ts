import type { Logger } from 'pino';
import type { DeadLetter, JobQueue, JobSpec, Processor, QueueCounts } from './job-queue';

interface Entry {
  spec: JobSpec;
  runs: number;
  timer: NodeJS.Timeout | undefined;
  dueAt: number;
  running: boolean;
  /** Set by runNow while running: run once more right after. */
  again: boolean;
}

const ERROR_RETRY_MS = 1000;

/**
 * The job queue of the embedded development mode (no Redis): the same contract as the BullMQ queue,
 * with timers in this process. Jobs are lost when the process ends, like everything else in that mode.
 */
export function createMemoryJobQueue(logger: Logger, clock: () => number = Date.now): JobQueue {
  const jobs = new Map<string, Entry>();
  const dead = new Map<string, DeadLetter>();
  let processors: Record<string, Processor> | undefined;
  let closed = false;
  const running = new Set<Promise<void>>();

  const schedule = (entry: Entry, delayMs: number) => {
    if (entry.timer) clearTimeout(entry.timer);
    entry.dueAt = clock() + delayMs;
    entry.timer = undefined;
    if (!processors || closed) return;
    entry.timer = setTimeout(() => execute(entry), delayMs);
    entry.timer.unref();
  };

  const execute = (entry: Entry) => {
    entry.timer = undefined;
    const processor = processors?.[entry.spec.name];
    if (!processor || closed) return;
    entry.running = true;
    entry.runs++;
    const work = processor(entry.spec.data, { id: entry.spec.id, run: entry.runs })
      .catch((err: unknown) => {
        logger.warn({ jobId: entry.spec.id, err }, 'job threw; retrying');
        return { kind: 'retry', delayMs: ERROR_RETRY_MS, reason: 'error' } as const;
      })
      .then((outcome) => {
        entry.running = false;
        if (outcome.kind === 'done') {
          jobs.delete(entry.spec.id);
          if (entry.again) add(entry.spec);
        } else if (outcome.kind === 'failed') {
          jobs.delete(entry.spec.id);
          dead.set(entry.spec.id, {
            id: entry.spec.id,
            name: entry.spec.name,
            data: entry.spec.data,
            attempts: entry.runs,
            reason: outcome.reason,
            failedAt: clock(),
          });
        } else {
          schedule(entry, entry.again ? 0 : outcome.delayMs);
        }
        entry.again = false;
      });
    const tracked = work.finally(() => running.delete(tracked));
    running.add(tracked);
  };

  const add = (spec: JobSpec) => {
    if (jobs.has(spec.id)) return;
    dead.delete(spec.id);
    const entry: Entry = { spec, runs: 0, timer: undefined, dueAt: 0, running: false, again: false };
    jobs.set(spec.id, entry);
    schedule(entry, spec.delayMs ?? 0);
  };

  return {
    async add(spec) {
      add(spec);
    },
    async runNow(spec) {
      const entry = jobs.get(spec.id);
      if (!entry) return add({ ...spec, delayMs: 0 });
      if (entry.running) entry.again = true;
      else schedule(entry, 0);
    },
    async failed(limit) {
      return [...dead.values()].sort((a, b) => b.failedAt - a.failedAt).slice(0, limit);
    },
    async retryFailed(id) {
      const letter = dead.get(id);
      if (!letter) return false;
      dead.delete(id);
      add({ name: letter.name, id: letter.id, data: letter.data });
      return true;
    },
    async counts(): Promise<QueueCounts> {
      const now = clock();
      let waiting = 0;
      let delayed = 0;
      let active = 0;
      let oldest = 0;
      for (const entry of jobs.values()) {
        if (entry.running) active++;
        else if (entry.dueAt > now) delayed++;
        else {
          waiting++;
          oldest = Math.max(oldest, now - entry.dueAt);
        }
      }
      return { waiting, delayed, active, failed: dead.size, oldestWaitingAgeMs: oldest };
    },
    start(given) {
      processors = given;
      for (const entry of jobs.values()) schedule(entry, Math.max(0, entry.dueAt - clock()));
    },
    async close() {
      closed = true;
      for (const entry of jobs.values()) if (entry.timer) clearTimeout(entry.timer);
      await Promise.race([Promise.allSettled([...running]), new Promise((r) => setTimeout(r, 5000).unref())]);
    },
  };
}
