import { createHash } from 'node:crypto';
import { AppError } from '../errors';
import type { EnvelopeCipher } from '../storage/envelope-cipher';
import type { KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';

const KEEP_MS = 24 * 3600 * 1000;
/** A request still running under the key holds it this long at most (a crashed one lets go). */
const PENDING_MS = 60_000;

export interface StoredAnswer {
  status: number;
  body: unknown;
}

/**
 * Idempotency-Key, as Stripe does it: the same key with the same body replays the first answer for
 * 24 h; the same key with another body is a conflict. Answers are sealed: they hold a start ticket.
 */
export function createIdempotency(deps: { kv: KeyValueStore; keys: StorageKeys; cipher: EnvelopeCipher }) {
  const { kv, keys, cipher } = deps;
  return async function once(
    idempotencyKey: string | undefined,
    body: unknown,
    work: () => Promise<StoredAnswer>,
  ): Promise<StoredAnswer & { replayed: boolean }> {
    if (idempotencyKey === undefined) return { ...(await work()), replayed: false };
    const key = keys.idempotency(createHash('sha256').update(idempotencyKey).digest('base64url'));
    const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('base64url');
    const pending = JSON.stringify({ fingerprint, answer: null });
    if (!(await kv.setIfAbsent(key, pending, PENDING_MS))) {
      const raw = await kv.get(key);
      const stored =
        raw === null ? null : (JSON.parse(raw) as { fingerprint: string; answer: string | null });
      if (!stored) return once(idempotencyKey, body, work);
      if (stored.fingerprint !== fingerprint)
        throw new AppError(
          'idempotency_conflict',
          'This Idempotency-Key was used with a different request body.',
        );
      if (stored.answer === null)
        throw new AppError(
          'idempotency_conflict',
          'A request with this Idempotency-Key is still in progress.',
          {
            retryAfterS: 1,
          },
        );
      return { ...(JSON.parse(cipher.open(stored.answer, key)) as StoredAnswer), replayed: true };
    }
    let answer: StoredAnswer;
    try {
      answer = await work();
    } catch (err) {
      // A failed request may be retried with the same key.
      await kv.deleteIfEquals(key, pending).catch(() => undefined);
      throw err;
    }
    await kv.set(
      key,
      JSON.stringify({ fingerprint, answer: cipher.seal(JSON.stringify(answer), key) }),
      KEEP_MS,
    );
    return { ...answer, replayed: false };
  };
}
