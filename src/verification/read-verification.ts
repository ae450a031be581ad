import { AppError } from '../errors';
import { BoundedCache } from '../bounded-cache';
import type { Telemetry } from '../telemetry';
import { hashOf } from './flow-store';
import type { ReportStore } from './report-store';
import type { VerificationSettings } from './verification-deps';
import type {
  VerificationMeta,
  VerificationStatus,
  VerificationStore,
  VersionedMeta,
} from './verification-store';
import { lapsedOutcome, outcome } from './outcomes';

export type PublicStatus = VerificationStatus | 'none';

/**
 * What a browser may see of its verification. The same state is the same (frozen) object: a ready
 * one per verification and report version, the others shared by all verifications. What is built
 * from a state (the poll's body and ETag) can therefore be cached by the object.
 */
export interface VerificationState {
  readonly status: PublicStatus;
  /** The report's JSON text, when ready. */
  readonly report: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  /** Seconds until asking again is worth it; only while the outcome is open. */
  readonly retryAfterS: number | undefined;
}

export interface VerificationReader {
  /**
   * The verification's state for the poll. With `owner` (the polling browser), the poll is counted
   * against the per-session poll limit in the same round trip; over it, AppError `rate_limited`.
   */
  read(verificationId: string | undefined, owner?: string): Promise<VerificationState>;
  /**
   * The state of a stored state already at hand (a change message carries it): no read of the state,
   * and no count. `raw` null: the verification's records are gone.
   */
  stateOf(verificationId: string, raw: string | null): Promise<VerificationState>;
}

export interface ReaderDeps {
  verifications: VerificationStore;
  reports: ReportStore;
  clock: () => number;
  telemetry: Pick<Telemetry, 'reportCache'>;
  settings: Pick<VerificationSettings, 'pollIntervalMs' | 'pollLimit'>;
}

const REPORT_CACHE_ENTRIES = 2000;
const SMALL_STATES = 100;

/**
 * The poll path: a read of the stored state, never a provider call (the verification job fetches the
 * report). Ready reports are read from the encrypted store and decrypted once per change in this process.
 */
export function createVerificationReader(deps: ReaderDeps): VerificationReader {
  const { verifications, reports, clock, settings, telemetry } = deps;
  const readyStates = new BoundedCache<string, { version: string; state: VerificationState }>(
    REPORT_CACHE_ENTRIES,
  );
  const retryAfterS = Math.max(1, Math.ceil(settings.pollIntervalMs / 1000));

  const build = (
    status: PublicStatus,
    report: string | null,
    error: VerificationMeta['error'] | null,
  ): VerificationState => {
    const open = status === 'awaiting_user' || status === 'processing';
    return Object.freeze({
      status,
      report,
      error: error ? Object.freeze({ code: error.code, message: error.message }) : null,
      retryAfterS: open ? retryAfterS : undefined,
    });
  };
  // States without a report repeat (a handful of statuses and error codes): one object each.
  const smallStates = new Map<string, VerificationState>();
  const small = (status: PublicStatus, error: VerificationMeta['error'] | null): VerificationState => {
    const key = error ? `${status}\n${error.code}\n${error.message}` : status;
    const known = smallStates.get(key);
    if (known) return known;
    const built = build(status, null, error);
    if (smallStates.size < SMALL_STATES) smallStates.set(key, built);
    return built;
  };

  async function readyState(id: string, meta: VerificationMeta): Promise<VerificationState> {
    const version = meta.reportVersion ?? '';
    const cached = readyStates.get(id);
    if (cached && cached.version === version) {
      telemetry.reportCache('hit');
      return cached.state;
    }
    telemetry.reportCache('miss');
    const report = await reports.read(id);
    if (report === null) return small('expired', outcome('report_expired'));
    const result = build('ready', report, null);
    readyStates.set(id, { version, state: result });
    return result;
  }

  async function fromMeta(id: string, current: VersionedMeta): Promise<VerificationState> {
    const meta = current.meta;
    switch (meta.status) {
      case 'ready':
        return readyState(id, meta);
      case 'awaiting_user':
        if (lapsedOutcome(meta, clock())) return small('expired', outcome('flow_expired'));
        return small('awaiting_user', null);
      default:
        return small(meta.status, meta.error ?? null);
    }
  }

  // Polls mostly see the same state again: parse a stored state once, hash an owner once.
  const metaCache = new BoundedCache<string, VersionedMeta>(REPORT_CACHE_ENTRIES);
  const parsedMeta = (id: string, raw: string): VersionedMeta => {
    const cached = metaCache.get(id);
    if (cached?.version === raw) return cached;
    const parsed = verifications.parse(raw);
    metaCache.set(id, parsed);
    return parsed;
  };
  const ownerTags = new BoundedCache<string, string>(REPORT_CACHE_ENTRIES);
  const ownerTag = (owner: string): string => {
    let tag = ownerTags.get(owner);
    if (tag === undefined) {
      tag = hashOf(owner).slice(0, 22);
      ownerTags.set(owner, tag);
    }
    return tag;
  };

  async function stateOf(id: string, raw: string | null): Promise<VerificationState> {
    const current = raw === null ? null : parsedMeta(id, raw);
    // The session points at a verification whose records have expired (or were deleted).
    if (!current) return small('expired', outcome('verification_expired'));
    return fromMeta(id, current);
  }

  return {
    async read(id, owner) {
      if (id === undefined) return small('none', null);
      let raw: string | null;
      if (owner === undefined) {
        raw = await verifications.readStored(id);
      } else {
        const { limit, windowMs } = settings.pollLimit;
        const counted = await verifications.readStoredCounting(id, ownerTag(owner), windowMs);
        if (counted.count > limit) {
          throw new AppError('rate_limited', 'Too many requests. Please wait and retry.', {
            retryAfterS: Math.max(1, Math.ceil(counted.resetInMs / 1000)),
          });
        }
        raw = counted.value;
      }
      return stateOf(id, raw);
    },
    stateOf,
  };
}
