import { createHash } from 'node:crypto';
import { AppError } from '../errors';
import { hashOf } from './flow-store';
import type { VerificationDeps } from './verification-deps';
import type { VerificationMeta, VerificationStatus, VersionedMeta } from './verification-store';
import { lapsedOutcome, outcome } from './outcomes';

export type PublicStatus = VerificationStatus | 'none';

/** What the poll endpoint answers; `body` is the serialized JSON, built once per change. */
export interface VerificationView {
  status: PublicStatus;
  body: string;
  etag: string;
  /** Seconds until the next poll is worth it; only while the outcome is open. */
  retryAfterS: number | undefined;
  /** The same as header text, and the body's byte length: built once per view, not per answer. */
  retryAfterHeader: string | undefined;
  bodyLength: number;
}

export interface VerificationReader {
  /**
   * The verification's state for the poll. With `owner` (the polling browser), the poll is counted
   * against the per-session poll limit in the same round trip; over it, AppError `rate_limited`.
   */
  read(verificationId: string | undefined, owner?: string): Promise<VerificationView>;
  /**
   * The view of a stored state already at hand (a change message carries it): no read of the state,
   * and no count. `raw` null: the verification's records are gone.
   */
  viewOf(verificationId: string, raw: string | null): Promise<VerificationView>;
}

const REPORT_CACHE_ENTRIES = 2000;

/**
 * The poll path: a read of the stored state, never a provider call (the verification job fetches the
 * report). Ready reports are served from the encrypted cache, decrypted once per change in this process.
 */
export function createVerificationReader(deps: VerificationDeps): VerificationReader {
  const { verifications, kv, keys, clock, settings, telemetry } = deps;
  const readyBodies = new Map<string, { version: string; view: VerificationView }>();
  const retryAfterS = Math.max(1, Math.ceil(settings.pollIntervalMs / 1000));

  // Views without a report repeat (a handful of statuses and error codes): built and hashed once.
  const smallViews = new Map<string, VerificationView>();
  const view = (
    status: PublicStatus,
    report: string | null,
    error: VerificationMeta['error'] | null,
  ): VerificationView => {
    const body = `{"status":"${status}","report":${report ?? 'null'},"error":${error ? JSON.stringify({ code: error.code, message: error.message }) : 'null'}}`;
    const known = report === null ? smallViews.get(body) : undefined;
    if (known) return known;
    const open = status === 'awaiting_user' || status === 'processing';
    const built = {
      status,
      body,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`,
      retryAfterS: open ? retryAfterS : undefined,
      retryAfterHeader: open ? String(retryAfterS) : undefined,
      bodyLength: Buffer.byteLength(body),
    };
    if (report === null && smallViews.size < 100) smallViews.set(body, built);
    return built;
  };

  async function readyView(id: string, meta: VerificationMeta): Promise<VerificationView> {
    const version = meta.reportVersion ?? '';
    const cached = readyBodies.get(id);
    if (cached && cached.version === version) {
      telemetry.reportCache('hit');
      return cached.view;
    }
    telemetry.reportCache('miss');
    const sealed = await kv.get(keys.report(id));
    if (sealed === null) return view('expired', null, outcome('report_expired'));
    const result = view('ready', deps.cipher.open(sealed, keys.report(id)), null);
    if (readyBodies.size >= REPORT_CACHE_ENTRIES)
      readyBodies.delete(readyBodies.keys().next().value as string);
    readyBodies.set(id, { version, view: result });
    return result;
  }

  async function fromMeta(id: string, current: VersionedMeta): Promise<VerificationView> {
    const meta = current.meta;
    switch (meta.status) {
      case 'ready':
        return readyView(id, meta);
      case 'awaiting_user':
        if (lapsedOutcome(meta, clock())) return view('expired', null, outcome('flow_expired'));
        return view('awaiting_user', null, null);
      default:
        return view(meta.status, null, meta.error ?? null);
    }
  }

  // Polls mostly see the same state again: parse a stored state once, hash an owner once.
  const metaCache = new Map<string, VersionedMeta>();
  const parsedMeta = (id: string, raw: string): VersionedMeta => {
    const cached = metaCache.get(id);
    if (cached?.version === raw) return cached;
    const parsed = verifications.parse(id, raw);
    if (metaCache.size >= REPORT_CACHE_ENTRIES) metaCache.delete(metaCache.keys().next().value as string);
    metaCache.set(id, parsed);
    return parsed;
  };
  const ownerTags = new Map<string, string>();
  const ownerTag = (owner: string): string => {
    let tag = ownerTags.get(owner);
    if (tag === undefined) {
      tag = hashOf(owner).slice(0, 22);
      if (ownerTags.size >= REPORT_CACHE_ENTRIES) ownerTags.delete(ownerTags.keys().next().value as string);
      ownerTags.set(owner, tag);
    }
    return tag;
  };

  async function viewOf(id: string, raw: string | null): Promise<VerificationView> {
    const current = raw === null ? null : parsedMeta(id, raw);
    // The session points at a verification whose records have expired (or were deleted).
    if (!current) return view('expired', null, outcome('verification_expired'));
    return fromMeta(id, current);
  }

  return {
    async read(id, owner) {
      if (id === undefined) return view('none', null, null);
      let raw: string | null;
      if (owner === undefined) {
        raw = await kv.get(keys.meta(id));
      } else {
        const { limit, windowMs } = settings.pollLimit;
        const counted = await kv.getAndCount(keys.meta(id), keys.pollCount(id, ownerTag(owner)), windowMs);
        if (counted.count > limit) {
          throw new AppError('rate_limited', 'Too many requests. Please wait and retry.', {
            retryAfterS: Math.max(1, Math.ceil(counted.resetInMs / 1000)),
          });
        }
        raw = counted.value;
      }
      return viewOf(id, raw);
    },
    viewOf,
  };
}
