import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError } from '../errors';
import type { OutgoingEvent } from '../integrator/webhook-events';
import { accessLostEvent, reportUpdatedEvent } from '../integrator/webhook-events';
import type { ProviderClient } from '../provider/provider-client';
import { ProviderError } from '../provider/provider-errors';
import type { StorageKeys } from '../storage/storage-keys';
import { GrantLostError, type TokenService } from '../tokens/token-service';
import type { TokenStore } from '../tokens/token-store';
import { outcome } from '../verification/outcomes';
import type { ReportStore } from '../verification/report-store';
import {
  keepMsOf,
  type RefreshRequest,
  type VerificationMeta,
  type VerificationStore,
} from '../verification/verification-store';
import { fetchReportWithToken } from './report-fetch';
import { done, retry, type JobOutcome, type JobRun, type JobSpec } from './job-queue';

export const KEEPALIVE_JOB = 'ongoing-keepalive';
export const REPORT_REFRESH_JOB = 'report-refresh';

/**
 * One keep-alive job per ongoing verification; it re-queues itself (a delayed job in Redis, so it
 * survives every instance being stopped) until the access ends or the verification is deleted.
 */
export const keepAliveJob = (verificationId: string, delayMs: number): JobSpec => ({
  name: KEEPALIVE_JOB,
  id: `keepalive-${verificationId}`,
  data: { verificationId },
  delayMs,
});

/** One job per report refresh the lender asked for; one at a time per verification (its `refreshPending`). */
export const reportRefreshJob = (verificationId: string, request: RefreshRequest): JobSpec => ({
  name: REPORT_REFRESH_JOB,
  id: `report-refresh-${verificationId}-${request.id}`,
  data: { verificationId, refreshId: request.id, requestedAt: request.requestedAt },
});

/**
 * The job is queued before its request is recorded (see LenderVerifications.refreshReport): a job
 * that finds no request yet waits this long for it, in steps of RECORD_POLL_MS, then ends.
 */
const RECORD_GRACE_MS = 10_000;
const RECORD_POLL_MS = 250;

/** Codes in `meta.error` that mean the ongoing access is over (the last report stays readable). */
export const ACCESS_ENDED: ReadonlySet<string> = new Set(['access_lost', 'access_expired']);

export interface OngoingAccessDeps {
  verifications: VerificationStore;
  tokens: TokenService;
  tokenStore: TokenStore;
  provider: ProviderClient;
  reports: ReportStore;
  keys: StorageKeys;
  clock: () => number;
  logger: Logger;
  settings: {
    keepaliveMs: number;
    retentionMs: number;
    /** A report refresh still failing (provider down, report not ready) this long after the request is dropped. */
    refreshGiveUpMs: number;
  };
  /** Appends the event to the log and queues its delivery; idempotent by event id. */
  announce(event: OutgoingEvent): Promise<void>;
  /** Removes events of a verification deleted while they were announced. */
  forget(eventIds: string[]): Promise<void>;
}

/** A transient failure (provider down, refresh busy) is tried again this soon, bounded by the keep-alive interval. */
const retryDelayMs = (keepaliveMs: number) => Math.min(30_000, Math.max(250, keepaliveMs / 4));

/**
 * Keeps an ongoing grant alive: refreshes the tokens once `keepaliveMs` has passed since they were
 * issued (a report refresh in between counts), so the provider's inactivity limit never ends the
 * access. Ends the access when the provider refuses (event `verification.access_lost`) or when
 * `access_expires_at` has come (tokens deleted, no event: the lender knew the date).
 */
export async function keepAccessAlive(
  deps: OngoingAccessDeps,
  data: Record<string, unknown>,
  _run: JobRun,
): Promise<JobOutcome> {
  const id = String(data.verificationId);
  const { settings, clock } = deps;
  const current = await deps.verifications.read(id);
  if (!current) return done('gone');
  const meta = current.meta;
  if (meta.access !== 'ongoing') return done('not_ongoing');
  await repairAnnouncements(deps, id, meta);
  if (meta.error && ACCESS_ENDED.has(meta.error.code)) return done(meta.error.code);
  if (meta.status === 'processing') return retry(settings.keepaliveMs, 'report_pending');
  if (meta.status !== 'ready') return done(meta.status);

  const now = clock();
  if (meta.accessExpiresAt !== undefined && now >= meta.accessExpiresAt) {
    await endAccess(deps, id, 'access_expired');
    deps.logger.info({ verificationId: id }, 'ongoing access reached its end; tokens deleted');
    return done('access_expired');
  }
  const tokens = await deps.tokenStore.read(id);
  if (!tokens) return loseAccess(deps, id, 'tokens missing');
  const seenIssuedAt = tokens.record.issuedAt ?? 0;
  const dueAt = seenIssuedAt + settings.keepaliveMs;
  if (now < dueAt) return retry(dueAt - now, 'not_due');

  try {
    const issuedAt = await deps.tokens.keepAlive(id, seenIssuedAt + 1);
    deps.logger.info({ verificationId: id }, 'ongoing access kept alive');
    return retry(Math.max(0, issuedAt + settings.keepaliveMs - clock()), 'kept_alive');
  } catch (err) {
    if (err instanceof GrantLostError) return loseAccess(deps, id, err.reason);
    if (err instanceof AppError && err.code !== 'dependency_unavailable') {
      deps.logger.warn({ verificationId: id, code: err.code }, 'keep-alive deferred');
      return retry(retryDelayMs(settings.keepaliveMs), err.code);
    }
    throw err;
  }
}

/**
 * Fetches a fresh report for a refresh the lender asked for, with the current tokens (refreshed when
 * needed), stores it and announces `verification.report_updated`. A refusal to refresh the tokens
 * ends the access instead.
 */
export async function refreshReport(
  deps: OngoingAccessDeps,
  data: Record<string, unknown>,
  _run: JobRun,
): Promise<JobOutcome> {
  const id = String(data.verificationId);
  const refreshId = String(data.refreshId);
  const { clock, logger } = deps;
  const current = await deps.verifications.read(id);
  if (!current) return done('gone');
  await repairAnnouncements(deps, id, current.meta);
  if (current.meta.refreshPending?.id !== refreshId) {
    const requestedAt = Number(data.requestedAt);
    const recordMayCome =
      current.meta.refreshPending === undefined && clock() - requestedAt < RECORD_GRACE_MS;
    return recordMayCome ? retry(RECORD_POLL_MS, 'not_recorded_yet') : done('not_pending');
  }
  if (current.meta.error && ACCESS_ENDED.has(current.meta.error.code)) {
    await clearPending(deps, id, refreshId);
    return done(current.meta.error.code);
  }
  const requestedAt = current.meta.refreshPending.requestedAt;
  const later = async (reason: string, retryAfterMs?: number): Promise<JobOutcome> => {
    if (clock() - requestedAt > deps.settings.refreshGiveUpMs) {
      await clearPending(deps, id, refreshId);
      logger.warn({ verificationId: id, reason }, 'report refresh given up; the last report stays');
      return done('gave_up');
    }
    return retry(Math.max(retryAfterMs ?? 0, retryDelayMs(deps.settings.keepaliveMs)), reason);
  };

  let answer;
  try {
    answer = await fetchReportWithToken(deps, id, current.meta.flowId);
  } catch (err) {
    if (err instanceof GrantLostError) {
      await clearPending(deps, id, refreshId);
      return loseAccess(deps, id, err.reason);
    }
    if (err instanceof ProviderError && (err.failure === 'rejected' || err.failure === 'unauthorized')) {
      // The grant still refreshes (else GrantLostError), but the report was refused: keep the last one.
      await clearPending(deps, id, refreshId);
      logger.warn(
        { verificationId: id, status: err.status },
        'report refresh refused; the last report stays',
      );
      return done('refused');
    }
    if (err instanceof ProviderError || (err instanceof AppError && err.code !== 'dependency_unavailable'))
      return later(
        err instanceof ProviderError ? err.failure : err.code,
        (err as ProviderError).retryAfterMs,
      );
    throw err;
  }
  if (answer.kind === 'not_ready') return later('not_ready', answer.retryAfterMs);

  const reportJson = JSON.stringify(answer.report);
  const reportVersion = createHash('sha256').update(reportJson).digest('base64url').slice(0, 22);
  const now = clock();
  const stored = await deps.verifications.transitionFresh(id, (meta) => {
    if (meta.refreshPending?.id !== refreshId) return null;
    const next: VerificationMeta = {
      ...meta,
      reportVersion,
      reportFetchedAt: now,
      reportUpdates: (meta.reportUpdates ?? 0) + 1,
      reportAnnounced: false,
      refreshPending: undefined,
      updatedAt: now,
    };
    const keepMs = keepMsOf(next, now, deps.settings.retentionMs);
    return {
      meta: next,
      companions: [deps.reports.writeOf(id, reportJson, keepMs)],
    };
  });
  if (!stored?.written) return done('superseded');
  logger.info({ verificationId: id }, 'income report refreshed');
  await repairAnnouncements(deps, id, stored.meta);
  return done('updated');
}

/**
 * Appends the events a crash may have left unannounced (the state was written, the event not yet):
 * the latest report refresh and the loss of access. Idempotent by event id.
 */
async function repairAnnouncements(
  deps: OngoingAccessDeps,
  id: string,
  meta: VerificationMeta,
): Promise<void> {
  if (meta.reportAnnounced === false) {
    await announceUnlessGone(deps, id, reportUpdatedEvent(id, meta));
    await deps.verifications.transitionFresh(id, (m) =>
      m.reportAnnounced === false && m.reportUpdates === meta.reportUpdates
        ? { meta: { ...m, reportAnnounced: true } }
        : null,
    );
  }
  if (meta.error?.code === 'access_lost') await announceUnlessGone(deps, id, accessLostEvent(id, meta));
}

/** Announces, then takes the event back if the verification was deleted meanwhile: no event outlives a DELETE. */
async function announceUnlessGone(
  deps: OngoingAccessDeps,
  id: string,
  outgoing: OutgoingEvent,
): Promise<void> {
  await deps.announce(outgoing);
  if (!(await deps.verifications.read(id))) await deps.forget([outgoing.event.id]);
}

/** The provider refused to renew the grant: tokens deleted, the error recorded, the lender told. */
async function loseAccess(deps: OngoingAccessDeps, id: string, reason: string): Promise<JobOutcome> {
  const meta = await endAccess(deps, id, 'access_lost');
  if (!meta) return done('gone');
  deps.logger.warn({ verificationId: id, reason }, 'ongoing access lost; tokens deleted');
  if (meta.error?.code === 'access_lost') await announceUnlessGone(deps, id, accessLostEvent(id, meta));
  return done('access_lost');
}

async function endAccess(
  deps: OngoingAccessDeps,
  id: string,
  code: 'access_lost' | 'access_expired',
): Promise<VerificationMeta | null> {
  const now = deps.clock();
  const result = await deps.verifications.transitionFresh(id, (meta) =>
    meta.error && ACCESS_ENDED.has(meta.error.code)
      ? null
      : {
          meta: { ...meta, error: outcome(code), refreshPending: undefined, updatedAt: now },
          companions: [{ key: deps.keys.tokens(id), value: null, ttlMs: 1 }],
        },
  );
  return result?.meta ?? null;
}

async function clearPending(deps: OngoingAccessDeps, id: string, refreshId: string): Promise<void> {
  await deps.verifications.transitionFresh(id, (meta) =>
    meta.refreshPending?.id === refreshId ? { meta: { ...meta, refreshPending: undefined } } : null,
  );
}

/** Binds both processors to a queue. */
export function ongoingAccessProcessors(deps: OngoingAccessDeps) {
  return {
    [KEEPALIVE_JOB]: (data: Record<string, unknown>, run: JobRun) => keepAccessAlive(deps, data, run),
    [REPORT_REFRESH_JOB]: (data: Record<string, unknown>, run: JobRun) => refreshReport(deps, data, run),
  };
}
