import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisSettings } from '../storage/redis-connection';
import type { DeadLetter, JobQueue, JobSpec, Processor } from './job-queue';

export interface BullmqQueueSettings {
  redis: RedisSettings;
  /** The storage key prefix; the queue's keys live under `{<prefix>jobs}` (one hash slot on a Cluster). */
  keyPrefix: string;
  concurrency: number;
  /** How long dead letters are kept. */
  failedRetentionS: number;
  /** A job whose worker died is taken over after about this long (BullMQ's lock and stall check). */
  stalledAfterMs: number;
}

const QUEUE_NAME = 'work';
/** A processor that throws (Redis hiccup, a bug) is retried with backoff this many times before it is a dead letter. */
const ERROR_ATTEMPTS = 12;
const CLOSE_GRACE_MS = 5000;

/**
 * The jobs of a Redis deployment on BullMQ: delayed jobs for "not yet", stalled-job recovery when an
 * instance dies mid-job, the failed set as dead letters. BullMQ's node-redis adapter has no Cluster
 * support, so it gets its own ioredis connections; the hash-tagged prefix keeps a queue in one slot.
 */
export function createBullmqJobQueue(settings: BullmqQueueSettings, logger: Logger): JobQueue {
  const prefix = `{${settings.keyPrefix}jobs}`;
  // The producer fails fast (requests enqueue on it); the worker's connection waits out outages.
  const producer = connect(settings.redis, { maxRetriesPerRequest: 2, connectTimeout: 5000 });
  const queue = new Queue(QUEUE_NAME, {
    connection: producer,
    prefix,
    defaultJobOptions: {
      removeOnComplete: true,
      removeOnFail: { age: settings.failedRetentionS },
      attempts: ERROR_ATTEMPTS,
      backoff: { type: 'exponential', delay: 1000 },
    },
  });
  queue.on('error', (err) => logger.warn({ err }, 'job queue connection error'));
  let worker: Worker | undefined;
  let workerConnection: Redis | Cluster | undefined;

  const add = async (spec: JobSpec) => {
    await queue.add(spec.name, spec.data, { jobId: spec.id, delay: spec.delayMs ?? 0 });
  };

  return {
    add,
    async runNow(spec) {
      const job = await queue.getJob(spec.id);
      if (!job) return add({ ...spec, delayMs: 0 });
      // Promote fails when the job left the delayed set meanwhile; then it runs (or ran) anyway.
      if (await job.isDelayed()) await job.promote().catch(() => undefined);
    },
    async failed(limit) {
      const jobs = await queue.getFailed(0, limit - 1);
      return jobs.filter((j): j is Job => !!j?.id).map(deadLetter);
    },
    async retryFailed(id) {
      const job = await queue.getJob(id);
      if (!job || !(await job.isFailed())) return false;
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return true;
    },
    async counts() {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed', 'prioritized');
      const [oldest] = await queue.getJobs(['waiting'], 0, 0, true);
      const dueAt = oldest ? oldest.timestamp + (oldest.delay ?? 0) : Date.now();
      return {
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        delayed: counts.delayed ?? 0,
        active: counts.active ?? 0,
        failed: counts.failed ?? 0,
        oldestWaitingAgeMs: Math.max(0, Date.now() - dueAt),
      };
    },
    start(processors) {
      workerConnection = connect(settings.redis, { maxRetriesPerRequest: null });
      worker = new Worker(QUEUE_NAME, (job, token) => runJob(processors, job, token), {
        connection: workerConnection,
        prefix,
        concurrency: settings.concurrency,
        lockDuration: settings.stalledAfterMs,
        stalledInterval: settings.stalledAfterMs,
        maxStalledCount: 5,
      });
      worker.on('error', (err) => logger.warn({ err }, 'job worker connection error'));
      worker.on('failed', (job, err) => {
        if (job && !(err instanceof DelayedError))
          logger.warn({ jobId: job.id, job: job.name, reason: err.message }, 'job failed');
      });
    },
    async close() {
      // Running jobs get a few seconds to finish; past that they are abandoned to the stall check
      // of another instance (they are idempotent), and the connections are cut, so shutdown stays
      // bounded even when Redis (or a Cluster that never formed) does not answer.
      const graceful = Promise.all([worker?.close(), queue.close()]).then(() => 'closed' as const);
      const late = new Promise<'late'>((r) => setTimeout(() => r('late'), CLOSE_GRACE_MS).unref());
      if ((await Promise.race([graceful.catch(() => 'closed' as const), late])) === 'late') {
        logger.warn('job worker did not stop in time; leaving its jobs to the stall check');
        void worker?.close(true).catch(() => undefined);
      }
      for (const connection of [workerConnection, producer]) connection?.disconnect();
    },
  };
}

async function runJob(
  processors: Record<string, Processor>,
  job: Job,
  token: string | undefined,
): Promise<string> {
  const processor = processors[job.name];
  if (!processor) throw new UnrecoverableError(`no processor for job ${job.name}`);
  const outcome = await processor(job.data as Record<string, unknown>, {
    id: job.id as string,
    run: job.attemptsStarted,
  });
  if (outcome.kind === 'done') return outcome.result;
  if (outcome.kind === 'failed') throw new UnrecoverableError(outcome.reason);
  await job.moveToDelayed(Date.now() + outcome.delayMs, token);
  throw new DelayedError();
}

function deadLetter(job: Job): DeadLetter {
  return {
    id: job.id as string,
    name: job.name,
    data: job.data as Record<string, unknown>,
    attempts: job.attemptsMade,
    reason: job.failedReason,
    failedAt: job.finishedOn ?? job.timestamp,
  };
}

function connect(settings: RedisSettings, options: RedisOptions): Redis | Cluster {
  if (settings.clusterNodes) {
    return new Cluster(
      settings.clusterNodes.map((node) => {
        const u = new URL(node.includes('://') ? node : `redis://${node}`);
        return { host: u.hostname, port: Number(u.port || 6379) };
      }),
      { redisOptions: options },
    );
  }
  return new Redis(settings.url as string, options);
}
