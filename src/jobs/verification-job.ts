import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError } from '../errors';
import type { ProviderClient } from '../provider/provider-client';
import { ProviderError } from '../provider/provider-errors';
import type { StorageKeys } from '../storage/storage-keys';
import type { Telemetry } from '../telemetry';
import { GrantLostError, type TokenService } from '../tokens/token-service';
import type { ReportPathMonitor } from '../verification/report-path-monitor';
import type { ReportStore } from '../verification/report-store';
import {
  keepMsOf,
  type VerificationMeta,
  type VerificationStatus,
  type VerificationStore,
} from '../verification/verification-store';
import { fetchReportWithToken } from './report-fetch';
import { done, retry, type JobOutcome, type JobQueue, type JobRun, type JobSpec } from './job-queue';
import { lapsedOutcome, outcome, providerFailureOutcome, type OutcomeCode } from '../verification/outcomes';

export const VERIFICATION_JOB = 'verification';

/** Run when the user is back from the widget (or should be by now): settles the verification. */
export const settleJob = (verificationId: string): JobSpec => ({
  name: VERIFICATION_JOB,
  id: `settle-${verificationId}`,
  data: { verificationId },
});

/** Added when a verification is created, due when it would expire unfinished. */
export const deadlineJob = (verificationId: string, dueInMs: number): JobSpec => ({
  name: VERIFICATION_JOB,
  id: `deadline-${verificationId}`,
  data: { verificationId },
  delayMs: dueInMs + 1000,
});

export const TERMINAL: ReadonlySet<VerificationStatus> = new Set(['ready', 'cancelled', 'failed', 'expired']);

export interface VerificationJobDeps {
  verifications: VerificationStore;
  tokens: TokenService;
  provider: ProviderClient;
  reports: ReportStore;
  keys: StorageKeys;
  clock: () => number;
  logger: Logger;
  telemetry: Telemetry;
  settings: { pollIntervalMs: number; retentionMs: number };
  /** Tells a wrong FINX_REPORT_PATH from reports not ready yet; absent: never judged. */
  reportPaths?: ReportPathMonitor | undefined;
  /** Told of every verification this job finds settled (also again, after a crash): must be idempotent. */
  settled(verificationId: string, meta: VerificationMeta): Promise<void>;
  /** Queues the keep-alive of an ongoing access (idempotent); absent: never queued. */
  startKeepAlive?(verificationId: string): Promise<void>;
}

/** A provider's Retry-After beyond this is not waited out in full: the readiness deadline still applies. */
const MAX_BACKOFF_MS = 30_000;

/**
 * The readiness schedule: the delay before the next report request after `attempts` "not yet"
 * answers. It grows ×1.5 from one poll interval but stops at 1.5 intervals, and the ±20 % jitter
 * (`random` in [0, 1)) keeps 200 verifications that started together from knocking together. Why
 * the low cap: the gap between two requests is also how late a lender can learn of a report the
 * provider already has; at most 1.8 intervals keeps that under the goal of 2 intervals. It costs
 * more requests only for slow reports (bench: 3.04 per verification for a 5 s report, 3.19 with the
 * old cap of 4 intervals). Never shorter than one
 * interval (the provider is asked at most once per interval per verification).
 */
export function readinessDelayMs(attempts: number, intervalMs: number, random: number): number {
  const grown = Math.min(intervalMs * 1.5 ** (attempts - 1), intervalMs * 1.5);
  return Math.max(intervalMs, grown * (0.8 + random * 0.4));
}
/** While the callback that queued the job has not yet recorded its outcome, look again soon. */
const SETTLE_WAIT_MS = 250;

/**
 * The lifecycle of one verification after the browser has done its part, driven by the job engine
 * rather than by polls: expires what was never finished, fetches the report until it is ready or
 * finally fails (the readiness and backoff policy), and tells `settled` of the outcome. Idempotent:
 * any number of runs, on any instance, in any state, do the right thing.
 */
export async function advanceVerification(
  deps: VerificationJobDeps,
  data: Record<string, unknown>,
  run: JobRun,
): Promise<JobOutcome> {
  const id = String(data.verificationId);
  for (;;) {
    const current = await deps.verifications.read(id);
    if (!current) return done('gone');
    const meta = current.meta;
    const now = deps.clock();
    if (TERMINAL.has(meta.status)) {
      if (meta.status === 'ready' && meta.access === 'ongoing') await deps.startKeepAlive?.(id);
      await deps.settled(id, meta);
      return done(meta.status);
    }
    if (meta.status === 'created' || meta.status === 'awaiting_user') {
      const lapsed = lapsedOutcome(meta, now);
      if (lapsed) {
        const next = expire(meta, now, lapsed.code, lapsed.message);
        if (await deps.verifications.transition(id, current, next)) deps.telemetry.flow('expired');
        continue;
      }
      // A settle job is queued just before the callback records its outcome: look again shortly.
      const untilDeadline = meta.awaitingUntil - now + 1000;
      const soon = run.id.startsWith('settle-') ? SETTLE_WAIT_MS * 2 ** Math.min(run.run, 12) : untilDeadline;
      return retry(Math.min(soon, untilDeadline), meta.status);
    }
    // processing
    const fetched = await fetchReportOnce(deps, id, meta);
    if (fetched.kind === 'later') {
      const moved = await deps.verifications.transition(id, current, {
        ...meta,
        fetchAttempts: (meta.fetchAttempts ?? 0) + 1,
        updatedAt: now,
      });
      if (!moved) continue;
      return retry(fetched.delayMs, 'not_ready');
    }
    // Queued before the state change (a crash in between loses nothing; the job waits for `ready`).
    if (fetched.meta.status === 'ready' && meta.access === 'ongoing') await deps.startKeepAlive?.(id);
    const written = await deps.verifications.transition(id, current, fetched.meta, fetched.companions);
    if (!written) continue;
    deps.telemetry.flow(
      fetched.meta.status === 'ready' ? 'ready' : fetched.meta.status === 'failed' ? 'failed' : 'expired',
    );
    deps.logger.info(
      { verificationId: id, status: fetched.meta.status, reason: fetched.meta.error?.code },
      fetched.meta.status === 'ready' ? 'income report ready' : 'verification ended without a report',
    );
    await deps.settled(id, fetched.meta);
    return done(fetched.meta.status);
  }
}

type FetchOutcome =
  | { kind: 'later'; delayMs: number }
  | {
      kind: 'settled';
      meta: VerificationMeta;
      companions: Array<{ key: string; value: string | null; ttlMs: number }>;
    };

/** One upstream report request (with one refresh-and-retry on 401), classified. */
async function fetchReportOnce(
  deps: VerificationJobDeps,
  id: string,
  meta: VerificationMeta,
): Promise<FetchOutcome> {
  const { keys, settings, clock, logger } = deps;
  const now = clock();
  const dropTokens = { key: keys.tokens(id), value: null, ttlMs: 1 };
  const end = (status: 'failed' | 'expired', code: OutcomeCode): FetchOutcome => ({
    kind: 'settled',
    meta: { ...meta, status, error: outcome(code), updatedAt: now },
    companions: [dropTokens],
  });
  const later = (retryAfterMs: number | undefined): FetchOutcome => {
    if (now > (meta.readyBy ?? Infinity)) return end('failed', 'report_timeout');
    const attempts = (meta.fetchAttempts ?? 0) + 1;
    const delayMs = Math.min(
      retryAfterMs === undefined
        ? readinessDelayMs(attempts, settings.pollIntervalMs, Math.random())
        : Math.max(settings.pollIntervalMs, retryAfterMs),
      MAX_BACKOFF_MS,
    );
    // Never sleep past the deadline: the run after it ends the verification on time.
    return { kind: 'later', delayMs: Math.max(0, Math.min(delayMs, (meta.readyBy ?? Infinity) - now + 50)) };
  };

  let answer;
  try {
    answer = await fetchReportWithToken(deps, id, meta.flowId);
  } catch (err) {
    if (err instanceof GrantLostError) return end('expired', err.reason);
    if (err instanceof ProviderError && (err.failure === 'rejected' || err.failure === 'unauthorized')) {
      logger.warn(
        { verificationId: id, status: err.status, providerCode: err.providerCode },
        'report request refused',
      );
      const code = providerFailureOutcome('report', err.failure) as OutcomeCode;
      return end(code === 'session_expired' ? 'expired' : 'failed', code);
    }
    if (err instanceof ProviderError || (err instanceof AppError && err.code !== 'dependency_unavailable')) {
      // Transient (timeout, 5xx, refresh busy): stay pending; the deadline still applies.
      logger.warn({ verificationId: id, err: { message: (err as Error).message } }, 'report fetch deferred');
      return later(err instanceof ProviderError ? err.retryAfterMs : undefined);
    }
    throw err;
  }
  if (answer.kind === 'not_ready') {
    if (deps.reportPaths?.record(meta.flowId, answer.notFound ? 'not_found' : 'other')) {
      return end('failed', 'report_path_misconfigured');
    }
    return later(answer.retryAfterMs);
  }
  deps.reportPaths?.record(meta.flowId, 'found');

  const reportJson = JSON.stringify(answer.report);
  const reportVersion = createHash('sha256').update(reportJson).digest('base64url').slice(0, 22);
  const next: VerificationMeta = {
    ...meta,
    status: 'ready',
    reportVersion,
    reportFetchedAt: now,
    error: undefined,
    updatedAt: now,
  };
  return {
    kind: 'settled',
    meta: next,
    companions: [
      // Ongoing access keeps its report as long as the access; one-time for the retention period.
      deps.reports.writeOf(id, reportJson, keepMsOf(next, now, settings.retentionMs)),
      // One-time access: the tokens go in the same step that stores the report.
      ...(meta.access === 'ongoing' ? [] : [dropTokens]),
    ],
  };
}

function expire(meta: VerificationMeta, now: number, code: string, message: string): VerificationMeta {
  return { ...meta, status: 'expired', stateHash: undefined, error: { code, message }, updatedAt: now };
}

/** Binds the verification processor to a queue. */
export function verificationProcessors(deps: VerificationJobDeps) {
  return {
    [VERIFICATION_JOB]: (data: Record<string, unknown>, run: JobRun) => advanceVerification(deps, data, run),
  };
}

export type { JobQueue };
