import { createHash, timingSafeEqual } from 'node:crypto';

/** A short, stable, non-secret name for a key, for logs and metrics: the first 8 hex of its sha256. */
export const keyIdOf = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

/**
 * Checks a presented bearer key against every configured key in constant time: all are compared
 * (no early exit) over their sha256, so neither the position nor the length of a match leaks.
 * Returns the key id of the match.
 */
export function createApiKeyCheck(keys: string[]): (presented: string | undefined) => string | undefined {
  const known = keys.map((key) => ({ digest: createHash('sha256').update(key).digest(), id: keyIdOf(key) }));
  return (presented) => {
    const digest = createHash('sha256')
      .update(presented ?? '')
      .digest();
    let match: string | undefined;
    for (const key of known) if (timingSafeEqual(key.digest, digest) && presented) match = key.id;
    return match;
  };
}
