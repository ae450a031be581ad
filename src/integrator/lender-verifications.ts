import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { AppError } from '../errors';
import { deadlineJob } from '../jobs/verification-job';
import type { KeyValueStore } from '../storage/key-value-store';
import { deleteVerification } from '../verification/delete-verification';
import { hashOf } from '../verification/flow-store';
import { newVerificationId } from '../verification/start-verification';
import type { VerificationDeps } from '../verification/verification-deps';
import { ACCESS_ENDED, reportRefreshJob } from '../jobs/ongoing-access-job';
import { lapsedOutcome } from '../verification/outcomes';
import type {
  AccessKind,
  RefreshRequest,
  VerificationMeta,
  VerificationStatus,
} from '../verification/verification-store';
import { withTrailingSlash } from '../config/parsers';

/** What the lender sees of a verification. */
export interface LenderView {
  id: string;
  reference: string | null;
  status: VerificationStatus;
  error: string | null;
  access: AccessKind;
  /** Ongoing access: when it ends (set at the consent); null for one-time or before the consent. */
  access_expires_at: string | null;
  /** When the stored report was fetched from the provider; null before the first report. */
  report_fetched_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface CreateInput {
  reference: string;
  iban?: string | undefined;
  language?: string | undefined;
  access?: AccessKind | undefined;
}

export interface LenderSettings {
  publicBaseUrl: URL;
  ticketTtlMs: number;
}

/** The lender's side of verifications: create with a start ticket, read, list by reference, report, delete. */
export function createLenderVerifications(deps: VerificationDeps, settings: LenderSettings, audit: Logger) {
  const { verifications, kv, keys, clock, cipher } = deps;

  const view = (id: string, meta: VerificationMeta): LenderView => {
    // An abandoned flow is expired from the moment its deadline passes, before its job records it.
    const lapsed = lapsedOutcome(meta, clock());
    return {
      id,
      reference: meta.reference ?? null,
      status: lapsed ? 'expired' : meta.status,
      error: lapsed ? lapsed.code : (meta.error?.code ?? null),
      access: meta.access ?? 'one_time',
      access_expires_at: iso(meta.accessExpiresAt),
      report_fetched_at: iso(meta.reportFetchedAt),
      created_at: new Date(meta.createdAt).toISOString(),
      updated_at: new Date(meta.updatedAt ?? meta.createdAt).toISOString(),
    };
  };

  const find = async (id: string) => {
    const current = await verifications.read(id);
    if (current) return current;
    if (await verifications.existed(id))
      throw new AppError('gone', 'This verification was deleted or is past its retention period.');
    throw new AppError('not_found', 'No verification with this id.');
  };

  /** Throws the lender's error when this verification's report cannot be refreshed. */
  const refusesRefresh = (meta: VerificationMeta): void => {
    if (meta.access !== 'ongoing')
      throw new AppError(
        'access_not_ongoing',
        'This verification has one-time access: its report cannot be refreshed.',
      );
    if (meta.error && ACCESS_ENDED.has(meta.error.code))
      throw new AppError(
        'access_lost',
        meta.error.code === 'access_expired'
          ? 'The ongoing access has ended (access_expires_at). Start a new verification.'
          : 'The bank no longer grants access to this data. Start a new verification.',
      );
    if (meta.status !== 'ready')
      throw new AppError('report_not_ready', 'The first report is not ready yet; refresh it once it is.');
  };

  const answerPending = async (
    id: string,
    pending: RefreshRequest,
  ): Promise<{ id: string; status: 'in_progress' }> => {
    await deps.jobs.add(reportRefreshJob(id, pending));
    return { id: pending.id, status: 'in_progress' };
  };

  return {
    async create(input: CreateInput) {
      const id = newVerificationId();
      const { ticket, ticketHash, expiresAt } = await deps.tickets.issue(id, settings.ticketTtlMs);
      const now = clock();
      const prefill =
        input.iban || input.language
          ? cipher.seal(JSON.stringify({ iban: input.iban, language: input.language }), keys.meta(id))
          : undefined;
      // Queued before the state exists: an unused ticket's verification is expired on time.
      await deps.jobs.add(deadlineJob(id, expiresAt - now));
      await verifications.create(id, {
        status: 'created',
        flowId: '',
        createdAt: now,
        updatedAt: now,
        awaitingUntil: expiresAt,
        reference: input.reference,
        ticketHash,
        access: input.access ?? 'one_time',
        ...(prefill ? { prefill } : {}),
      });
      // Long enough for an ongoing verification (a later one-time one must not shorten it): the
      // list holds only ids, and reads skip the ones that are gone.
      const indexTtlMs = deps.settings.retentionMs + deps.settings.ongoingMaxAccessMs;
      await appendToIndex(kv, keys.referenceIndex(hashOf(input.reference)), id, indexTtlMs);
      deps.logger.info({ verificationId: id }, 'verification created by the lender');
      const startUrl = new URL('verification/start', withTrailingSlash(settings.publicBaseUrl));
      startUrl.searchParams.set('ticket', ticket);
      return {
        id,
        reference: input.reference,
        status: 'created' as const,
        start_url: startUrl.toString(),
        expires_at: new Date(expiresAt).toISOString(),
      };
    },

    async read(id: string): Promise<LenderView> {
      return view(id, (await find(id)).meta);
    },

    async list(reference: string): Promise<LenderView[]> {
      const raw = await kv.get(keys.referenceIndex(hashOf(reference)));
      const ids = raw ? (JSON.parse(raw) as string[]) : [];
      const items: LenderView[] = [];
      for (const id of ids.slice().reverse()) {
        const current = await verifications.read(id);
        if (current && current.meta.reference === reference) items.push(view(id, current.meta));
      }
      return items;
    },

    /** The provider's report object, as stored; every read leaves an audit line (never the content). */
    async report(id: string, keyId: string): Promise<string> {
      let outcome = 'error';
      let reference: string | null = null;
      try {
        const current = await find(id);
        reference = current.meta.reference ?? null;
        if (current.meta.status !== 'ready') {
          outcome = 'not_ready';
          const ended =
            current.meta.status !== 'created' &&
            current.meta.status !== 'awaiting_user' &&
            current.meta.status !== 'processing';
          throw new AppError(
            'report_not_ready',
            ended
              ? `This verification ended without a report (status ${current.meta.status}).`
              : 'The report is not ready yet. Wait for the webhook or read the verification again later.',
          );
        }
        const report = await deps.reports.read(id);
        if (report === null) {
          outcome = 'gone';
          throw new AppError('gone', 'The report is past its retention period.');
        }
        outcome = 'served';
        return report;
      } catch (err) {
        if (err instanceof AppError && outcome === 'error') outcome = err.code;
        throw err;
      } finally {
        audit.info(
          { audit: 'report_read', keyId, verificationId: id, reference, outcome },
          'report read by the lender',
        );
      }
    },

    /**
     * Asks for a fresh report of an ongoing verification; one at a time: while one is pending the
     * same refresh is answered (and its job queued again: same job id, a no-op when it exists).
     * The job is queued before the request is recorded: a crash in between leaves a job that finds
     * no request and ends, never a recorded request that no job serves.
     */
    async refreshReport(id: string): Promise<{ id: string; status: 'queued' | 'in_progress' }> {
      const current = await find(id);
      refusesRefresh(current.meta);
      const existing = current.meta.refreshPending;
      if (existing) return answerPending(id, existing);
      const fresh = { id: `rfr_${randomBytes(12).toString('base64url')}`, requestedAt: clock() };
      await deps.jobs.add(reportRefreshJob(id, fresh));
      const result = await verifications.transitionFresh(id, (meta) => {
        refusesRefresh(meta);
        return meta.refreshPending ? null : { meta: { ...meta, refreshPending: fresh } };
      });
      const pending = result?.meta.refreshPending;
      if (!pending) throw new AppError('not_found', 'No verification with this id.');
      // Another request recorded its refresh first: answer that one (the job queued here ends unused).
      if (pending.id !== fresh.id) return answerPending(id, pending);
      deps.logger.info({ verificationId: id, refreshId: fresh.id }, 'report refresh requested');
      return { id: fresh.id, status: 'queued' };
    },

    async remove(id: string): Promise<void> {
      const current = await verifications.read(id);
      if (current?.meta.ticketHash) await deps.tickets.remove(current.meta.ticketHash);
      await deleteVerification(deps, id);
    },
  };
}

export type LenderVerifications = ReturnType<typeof createLenderVerifications>;

/** Appends to a small JSON list by compare-and-set (a reference has a handful of verifications). */
async function appendToIndex(kv: KeyValueStore, key: string, id: string, ttlMs: number): Promise<void> {
  for (;;) {
    const raw = await kv.get(key);
    const ids = raw ? (JSON.parse(raw) as string[]) : [];
    const next = [...ids.slice(-99), id];
    if (await kv.compareAndSet(key, raw, JSON.stringify(next), ttlMs)) return;
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
