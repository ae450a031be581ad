import { createHash } from 'node:crypto';
import { AppError } from '../errors';
import { ProviderError } from '../provider/provider-errors';
import { GrantLostError } from '../tokens/token-service';
import { hashOf } from './flow-store';
import type { VerificationDeps } from './verification-deps';
import type { VerificationMeta, VerificationStatus, VersionedMeta } from './verification-store';

export type PublicStatus = VerificationStatus | 'none';

/** What the poll endpoint answers; `body` is the serialized JSON, built once per change. */
export interface VerificationView {
  status: PublicStatus;
  body: string;
  etag: string;
  /** Seconds until the next poll is worth it; only while the outcome is open. */
  retryAfterS: number | undefined;
}

export interface VerificationReader {
  /**
   * The verification's state for the poll. With `owner` (the polling browser), the poll is counted
   * against the per-session poll limit in the same round trip; over it, AppError `rate_limited`.
   */
  read(verificationId: string | undefined, owner?: string): Promise<VerificationView>;
}

const REPORT_CACHE_ENTRIES = 2000;
/** A provider's Retry-After beyond this is not waited out in full: the readiness deadline still applies. */
const MAX_BACKOFF_MS = 30_000;

/**
 * The poll path. Ready reports are served from the encrypted cache (decrypted once per change in this
 * process); while a report is pending, concurrent polls share one upstream request and, across
 * instances, a short Redis lease allows one upstream request per verification per interval.
 */
export function createVerificationReader(deps: VerificationDeps): VerificationReader {
  const { verifications, kv, keys, clock, settings, telemetry, logger } = deps;
  const inFlight = new Map<string, Promise<VerificationView>>();
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
    if (sealed === null)
      return view('expired', null, {
        code: 'report_expired',
        message: 'The report is no longer kept. Please verify again.',
      });
    const result = view('ready', deps.cipher.open(sealed, keys.report(id)), null);
    if (readyBodies.size >= REPORT_CACHE_ENTRIES)
      readyBodies.delete(readyBodies.keys().next().value as string);
    readyBodies.set(id, { version, view: result });
    return result;
  }

  async function transition(
    id: string,
    current: VersionedMeta,
    next: VerificationMeta,
    companions?: Parameters<typeof verifications.transition>[3],
  ) {
    const written = await verifications.transition(id, current, next, companions);
    if (!written) {
      // Another instance (or a DELETE) moved it first: answer from what is stored now.
      const now = await verifications.read(id);
      return now ? fromMeta(id, now, false) : view('none', null, null);
    }
    return undefined;
  }

  async function fetchReport(id: string, current: VersionedMeta): Promise<VerificationView> {
    const meta = current.meta;
    const processing = view('processing', null, null);
    if (!(await kv.setIfAbsent(keys.pollLease(id), '1', settings.pollIntervalMs))) return processing;

    const fail = async (status: 'failed' | 'expired', code: string, message: string) => {
      telemetry.flow(status === 'failed' ? 'failed' : 'expired');
      const next: VerificationMeta = { ...meta, status, error: { code, message } };
      const tokenDelete = { key: keys.tokens(id), value: null, ttlMs: 1 };
      return (await transition(id, current, next, [tokenDelete])) ?? view(status, null, next.error ?? null);
    };

    // Not ready (or a passing failure): back off before the next upstream request, honouring the
    // provider's Retry-After; polls in between answer from the stored state.
    const notYet = async (retryAfterMs: number | undefined) => {
      if (clock() > (meta.readyBy ?? Infinity)) {
        return fail('failed', 'report_timeout', 'The income report did not become available in time.');
      }
      const attempts = (meta.fetchAttempts ?? 0) + 1;
      const backoff = Math.min(settings.pollIntervalMs * 1.5 ** (attempts - 1), settings.pollIntervalMs * 4);
      const jittered = backoff * (0.8 + Math.random() * 0.4);
      const delayMs = Math.min(Math.max(settings.pollIntervalMs, retryAfterMs ?? jittered), MAX_BACKOFF_MS);
      await kv.set(keys.pollLease(id), '1', delayMs);
      await verifications.transition(id, current, { ...meta, fetchAttempts: attempts });
      return processing;
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
      if (err instanceof GrantLostError) return fail('expired', err.reason, err.message);
      if (err instanceof ProviderError && (err.failure === 'rejected' || err.failure === 'unauthorized')) {
        logger.warn(
          { verificationId: id, status: err.status, providerCode: err.providerCode },
          'report request refused',
        );
        return err.failure === 'unauthorized'
          ? fail('expired', 'session_expired', 'The bank connection has expired. Please connect again.')
          : fail('failed', 'report_unavailable', 'The provider could not produce the income report.');
      }
      if (
        err instanceof ProviderError ||
        (err instanceof AppError && err.code !== 'dependency_unavailable')
      ) {
        // Transient (timeout, 5xx, refresh busy): stay pending; the deadline below still applies.
        logger.warn(
          { verificationId: id, err: { message: (err as Error).message } },
          'report fetch deferred',
        );
        return notYet(err instanceof ProviderError ? err.retryAfterMs : undefined);
      }
      throw err;
    }

    if (outcome.kind === 'not_ready') {
      if (deps.reportPaths?.record(meta.flowId, outcome.notFound ? 'not_found' : 'other')) {
        return fail(
          'failed',
          'report_path_misconfigured',
          'The income report could not be fetched because of a server configuration problem.',
        );
      }
      return notYet(outcome.retryAfterMs);
    }
    deps.reportPaths?.record(meta.flowId, 'found');
    const reportJson = JSON.stringify(outcome.report);
    const reportVersion = createHash('sha256').update(reportJson).digest('base64url').slice(0, 22);
    const next: VerificationMeta = { ...meta, status: 'ready', reportVersion };
    const sealed = deps.cipher.seal(reportJson, keys.report(id));
    const raced = await transition(id, current, next, [
      { key: keys.report(id), value: sealed, ttlMs: settings.retentionMs },
    ]);
    if (raced) return raced;
    telemetry.flow('ready');
    logger.info({ verificationId: id }, 'income report ready');
    const ready = view('ready', reportJson, null);
    readyBodies.set(id, { version: reportVersion, view: ready });
    return ready;
  }

  async function fromMeta(id: string, current: VersionedMeta, mayFetch: boolean): Promise<VerificationView> {
    const meta = current.meta;
    switch (meta.status) {
      case 'ready':
        return readyView(id, meta);
      case 'awaiting_user':
        if (clock() > meta.awaitingUntil) {
          return view('expired', null, {
            code: 'flow_expired',
            message: 'The bank connection was not completed in time. Please start again.',
          });
        }
        return view('awaiting_user', null, null);
      case 'processing': {
        if (!mayFetch) return view('processing', null, null);
        let pending = inFlight.get(id);
        if (!pending) {
          pending = fetchReport(id, current).finally(() => inFlight.delete(id));
          inFlight.set(id, pending);
        }
        return pending;
      }
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
      const current = raw === null ? null : parsedMeta(id, raw);
      // The session points at a verification whose records have expired.
      if (!current)
        return view('expired', null, {
          code: 'verification_expired',
          message: 'This verification has expired. Please start again.',
        });
      return fromMeta(id, current, true);
    },
  };
}
