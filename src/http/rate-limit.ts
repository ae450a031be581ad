import { createHash } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors';
import type { KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';

/** What a rule may count by: a request, or (for the fast poll path) just its session owner and address. */
export interface RateSource {
  session?: { owner?: string | undefined } | undefined;
  ip?: string | undefined;
}

export interface RateRule {
  scope: string;
  limit: number;
  windowMs: number;
  /** What is counted: a session, an IP. Undefined: the rule does not apply to this request. */
  subject(source: RateSource): string | undefined;
}

/** Fixed-window counters in the shared store, so the limits hold across instances. Throws `rate_limited`. */
export async function enforceRateLimits(
  kv: KeyValueStore,
  keys: StorageKeys,
  rules: RateRule[],
  req: RateSource,
): Promise<void> {
  for (const rule of rules) {
    const subject = rule.subject(req);
    if (subject === undefined) continue;
    const { count, resetInMs } = await kv.increment(keys.rateLimit(rule.scope, subject), rule.windowMs);
    if (count > rule.limit) {
      throw new AppError('rate_limited', 'Too many requests. Please wait and retry.', {
        retryAfterS: Math.max(1, Math.ceil(resetInMs / 1000)),
      });
    }
  }
}

export function rateLimit(kv: KeyValueStore, keys: StorageKeys, rules: RateRule[]) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    await enforceRateLimits(kv, keys, rules, req);
    next();
  };
}

/** Hashed: the owner binding itself must not appear in key names. */
export const bySession = (req: RateSource): string | undefined =>
  req.session?.owner
    ? createHash('sha256').update(req.session.owner).digest('base64url').slice(0, 22)
    : undefined;
export const byIp = (req: RateSource): string => req.ip ?? 'unknown';
