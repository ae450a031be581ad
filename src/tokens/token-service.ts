import type { Logger } from 'pino';
import { AppError } from '../errors';
import type { ProviderClient, TokenSet } from '../provider/provider-client';
import { ProviderError } from '../provider/provider-errors';
import type { KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';
import type { Telemetry } from '../telemetry';
import { tryAcquireLock } from './lease-lock';
import type { TokenRecord, TokenStore, VersionedTokens } from './token-store';
import { OUTCOME_MESSAGES } from '../verification/outcomes';

/** The user's grant is gone: they must connect their bank again. */
export class GrantLostError extends Error {
  constructor(
    readonly reason: 'session_expired' | 'reconnect_required',
    message: string = OUTCOME_MESSAGES[reason],
  ) {
    super(message);
    this.name = 'GrantLostError';
  }
}

export interface TokenService {
  /**
   * A usable access token for the verification, refreshing it first when it is within the skew of
   * expiry. `rejected` is a token the provider just refused (401): it is never returned again.
   * Throws GrantLostError when the grant is gone, AppError when the refresh cannot happen now.
   */
  accessToken(verificationId: string, rejected?: string): Promise<string>;
  /**
   * Keeps an ongoing grant alive: refreshes the tokens unless they were issued at or after
   * `issuedBefore` (someone refreshed meanwhile: one refresh upstream serves both). Same lock and
   * errors as `accessToken`. Returns when the tokens now stored were issued.
   */
  keepAlive(verificationId: string, issuedBefore: number): Promise<number>;
  tokenRecordFor(tokens: TokenSet, previous?: TokenRecord): TokenRecord;
}

export interface TokenServiceDeps {
  kv: KeyValueStore;
  keys: StorageKeys;
  store: TokenStore;
  provider: ProviderClient;
  logger: Logger;
  telemetry: Telemetry;
  clock: () => number;
  refreshSkewMs: number;
  lockLeaseMs: number;
  lockWaitMs: number;
  /** Assumed lifetime of an access token whose answer had no usable `expires_in` (FINX_TOKEN_LIFETIME_S). */
  defaultLifetimeS: number;
}

/**
 * Refresh tokens rotate: two refreshes with the same token lose the grant. So refreshes of one
 * verification are single-flight in this process (a shared promise) and across instances (a Redis
 * lease lock); the holder re-reads the tokens after acquiring the lock and waiters reuse its result.
 */
export function createTokenService(deps: TokenServiceDeps): TokenService {
  const { kv, keys, store, provider, logger, telemetry, clock } = deps;
  const inFlight = new Map<string, Promise<string>>();

  const usable = (r: TokenRecord, rejected: string | undefined) =>
    !r.uncertain && r.accessToken !== rejected && clock() < r.refreshAt;

  const tokenRecordFor = (tokens: TokenSet, previous?: TokenRecord): TokenRecord => {
    const now = clock();
    const lifetimeMs = (tokens.expiresInS ?? deps.defaultLifetimeS) * 1000;
    return {
      accessToken: tokens.accessToken,
      // The provider may not rotate: then the old refresh token stays valid and must be kept.
      refreshToken: tokens.refreshToken ?? previous?.refreshToken,
      accessExpiresAt: now + lifetimeMs,
      refreshAt: now + lifetimeMs - Math.min(deps.refreshSkewMs, lifetimeMs / 2),
      issuedAt: now,
      ...(previous?.keepUntil !== undefined ? { keepUntil: previous.keepUntil } : {}),
    };
  };

  async function readOrLost(id: string): Promise<VersionedTokens> {
    const current = await store.read(id);
    if (!current) throw new GrantLostError('session_expired');
    if (current.record.uncertain) {
      throw new GrantLostError('reconnect_required');
    }
    return current;
  }

  /** Refreshes under the cross-instance lock unless a record that `good` accepts is (or becomes) stored. */
  async function refreshUnderLock(id: string, good: (r: TokenRecord) => boolean): Promise<TokenRecord> {
    const waitStarted = clock();
    const deadline = waitStarted + deps.lockWaitMs;
    for (let attempt = 0; ; attempt++) {
      const lock = await tryAcquireLock(kv, keys.refreshLock(id), deps.lockLeaseMs);
      if (lock) {
        telemetry.refreshLockWait(clock() - waitStarted);
        try {
          // Someone may have refreshed between our read and the lock.
          const current = await readOrLost(id);
          if (good(current.record)) {
            telemetry.refresh('reused');
            return current.record;
          }
          return await refresh(id, current);
        } finally {
          await lock.release();
        }
      }
      const after = await readOrLost(id);
      if (good(after.record)) {
        telemetry.refreshLockWait(clock() - waitStarted);
        telemetry.refresh('reused');
        return after.record;
      }
      if (clock() >= deadline) {
        throw new AppError(
          'refresh_in_progress',
          'The bank connection is being renewed. Please retry shortly.',
          { retryAfterS: 1 },
        );
      }
      await new Promise((r) =>
        setTimeout(r, Math.min(25 * 2 ** Math.min(attempt, 3), 200) + Math.random() * 25),
      );
    }
  }

  async function refresh(id: string, current: VersionedTokens): Promise<TokenRecord> {
    const refreshToken = current.record.refreshToken;
    if (!refreshToken) {
      await store.remove(id, current);
      throw new GrantLostError('session_expired');
    }
    let tokens: TokenSet;
    try {
      tokens = await provider.refreshTokens(refreshToken);
    } catch (err) {
      if (!(err instanceof ProviderError)) throw err;
      if (err.failure === 'rejected' || err.failure === 'unauthorized') {
        telemetry.refresh('rejected');
        await store.remove(id, current);
        throw new GrantLostError('session_expired');
      }
      // A refresh that may have reached the provider may have rotated the token: retrying with the
      // old one could burn the grant for good, so the record is marked and the user asked to reconnect.
      const refusedWithoutProcessing = err.status === 503 || err.status === 429;
      if (err.mayHaveReachedProvider && !refusedWithoutProcessing) {
        telemetry.refresh('uncertain');
        await store.replace(id, current, { ...current.record, uncertain: true });
        logger.warn(
          { verificationId: id, failure: err.failure, status: err.status },
          'token refresh outcome unknown; reconnect required',
        );
        throw new GrantLostError('reconnect_required');
      }
      telemetry.refresh('failed');
      throw new AppError(
        'provider_unavailable',
        'The bank data provider is unavailable. Please retry shortly.',
        {
          cause: err,
          retryAfterS: Math.ceil((err.retryAfterMs ?? 2000) / 1000),
        },
      );
    }
    const next = tokenRecordFor(tokens, current.record);
    if (!(await store.replace(id, current, next))) {
      // Only possible if our lease was lost mid-refresh; the newer record in the store wins.
      logger.error(
        { verificationId: id },
        'refreshed tokens lost a compare-and-set; keeping the stored ones',
      );
      return (await readOrLost(id)).record;
    }
    telemetry.refresh('refreshed');
    return next;
  }

  return {
    tokenRecordFor,
    async accessToken(id, rejected) {
      const current = await readOrLost(id);
      if (usable(current.record, rejected)) return current.record.accessToken;
      const key = `${id}\u0000${rejected ?? ''}`;
      let pending = inFlight.get(key);
      if (!pending) {
        pending = refreshUnderLock(id, (r) => usable(r, rejected))
          .then((r) => r.accessToken)
          .finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
    async keepAlive(id, issuedBefore) {
      const fresh = (r: TokenRecord) => !r.uncertain && (r.issuedAt ?? 0) >= issuedBefore;
      const current = await readOrLost(id);
      if (fresh(current.record)) return current.record.issuedAt as number;
      const record = await refreshUnderLock(id, fresh);
      return record.issuedAt ?? clock();
    },
  };
}
