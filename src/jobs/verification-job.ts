import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError } from '../errors';
import type { ProviderClient } from '../provider/provider-client';
import { ProviderError } from '../provider/provider-errors';
import type { EnvelopeCipher } from '../storage/envelope-cipher';
import type { StorageKeys } from '../storage/storage-keys';
import type { Telemetry } from '../telemetry';
import { GrantLostError, type TokenService } from '../tokens/token-service';
import type { ReportPathMonitor } from '../verification/report-path-monitor';
import {
  keepMsOf,
  type VerificationMeta,
  type VerificationStatus,
  type VerificationStore,
} from '../verification/verification-store';
import { done, retry, type JobOutcome, type JobQueue, type JobRun, type JobSpec } from './job-queue';

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
  cipher: EnvelopeCipher;
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
      if (now > meta.awaitingUntil) {
        const code = meta.status === 'created' ? 'ticket_expired' : 'flow_expired';
        const message =
          meta.status === 'created'
            ? 'The start link was not used in time.'
            : 'The bank connection was not completed in time.';
        const next = expire(meta, now, code, message);
        if (await deps.verifications.transition(id, current, next)) deps.telemetry.flow('expired');
        continue;
      }
      // A settle job is queued just before the callback records its outcome: look again shortly.
      const untilDeadline = meta.awaitingUntil - now + 1000;
      const soon = run.id.startsWith('settle-') ? SETTLE_WAIT_MS * 2 ** Math.min(run.run, 12) : untilDeadline;
      return retry(Math.min(soon, untilDeadline), meta.status);
    }
    // processing
    const outcome = await fetchReportOnce(deps, id, meta);
    if (outcome.kind === 'later') {
      const moved = await deps.verifications.transition(id, current, {
        ...meta,
        fetchAttempts: (meta.fetchAttempts ?? 0) + 1,
        updatedAt: now,
      });
      if (!moved) continue;
      return retry(outcome.delayMs, 'not_ready');
    }
    // Queued before the state change (a crash in between loses nothing; the job waits for `ready`).
    if (outcome.meta.status === 'ready' && meta.access === 'ongoing') await deps.startKeepAlive?.(id);
    const written = await deps.verifications.transition(id, current, outcome.meta, outcome.companions);
    if (!written) continue;
    deps.telemetry.flow(
      outcome.meta.status === 'ready' ? 'ready' : outcome.meta.status === 'failed' ? 'failed' : 'expired',
    );
    deps.logger.info(
      { verificationId: id, status: outcome.meta.status, reason: outcome.meta.error?.code },
      outcome.meta.status === 'ready' ? 'income report ready' : 'verification ended without a report',
    );
    await deps.settled(id, outcome.meta);
    return done(outcome.meta.status);
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
  const end = (status: 'failed' | 'expired', code: string, message: string): FetchOutcome => ({
    kind: 'settled',
    meta: { ...meta, status, error: { code, message }, updatedAt: now },
    companions: [dropTokens],
  });
  const later = (retryAfterMs: number | undefined): FetchOutcome => {
    if (now > (meta.readyBy ?? Infinity))
      return end('failed', 'report_timeout', 'The income report did not become available in time.');
    const attempts = (meta.fetchAttempts ?? 0) + 1;
    const interval = settings.pollIntervalMs;
    const backoff = Math.min(interval * 1.5 ** (attempts - 1), interval * 4) * (0.8 + Math.random() * 0.4);
    const delayMs = Math.min(Math.max(interval, retryAfterMs ?? backoff), MAX_BACKOFF_MS);
    // Never sleep past the deadline: the run after it ends the verification on time.
    return { kind: 'later', delayMs: Math.max(0, Math.min(delayMs, (meta.readyBy ?? Infinity) - now + 50)) };
  };

  let outcome;
  try {
    let token = await deps.tokens.accessToken(id);
    outcome = await deps.provider.getIncomeReport(meta.flowId, token).catch(async (err: unknown) => {
      // 401: the access token was refused; refresh once and try once more, no more.
      if (!(err instanceof ProviderError) || err.failure !== 'unauthorized') throw err;
      token = await deps.tokens.accessToken(id, token);
      return deps.provider.getIncomeReport(meta.flowId, token);
    });
  } catch (err) {
    if (err instanceof GrantLostError) return end('expired', err.reason, err.message);
    if (err instanceof ProviderError && (err.failure === 'rejected' || err.failure === 'unauthorized')) {
      logger.warn(
        { verificationId: id, status: err.status, providerCode: err.providerCode },
        'report request refused',
      );
      return err.failure === 'unauthorized'
        ? end('expired', 'session_expired', 'The bank connection has expired. Please connect again.')
        : end('failed', 'report_unavailable', 'The provider could not produce the income report.');
    }
    if (err instanceof ProviderError || (err instanceof AppError && err.code !== 'dependency_unavailable')) {
      // Transient (timeout, 5xx, refresh busy): stay pending; the deadline still applies.
      logger.warn({ verificationId: id, err: { message: (err as Error).message } }, 'report fetch deferred');
      return later(err instanceof ProviderError ? err.retryAfterMs : undefined);
    }
    throw err;
  }
  if (outcome.kind === 'not_ready') {
    if (deps.reportPaths?.record(meta.flowId, outcome.notFound ? 'not_found' : 'other')) {
      return end(
        'failed',
        'report_path_misconfigured',
        'The income report could not be fetched because of a server configuration problem.',
      );
    }
    return later(outcome.retryAfterMs);
  }
  deps.reportPaths?.record(meta.flowId, 'found');

  const reportJson = JSON.stringify(outcome.report);
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
      {
        key: keys.report(id),
        value: deps.cipher.seal(reportJson, keys.report(id)),
        // Ongoing access keeps its report as long as the access; one-time for the retention period.
        ttlMs: keepMsOf(next, now, settings.retentionMs),
      },
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
