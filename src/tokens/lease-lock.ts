import { randomBytes } from 'node:crypto';
import type { KeyValueStore } from '../storage/key-value-store';

export interface HeldLock {
  /** False once a renewal found the lock gone or owned by someone else. */
  stillHeld(): boolean;
  release(): Promise<void>;
}

/**
 * A lock with an owner token and a lease that is renewed while the holder works, so a slow holder
 * keeps it and a crashed holder's lock expires after one lease.
 */
export async function tryAcquireLock(
  kv: KeyValueStore,
  key: string,
  leaseMs: number,
): Promise<HeldLock | null> {
  const owner = randomBytes(16).toString('base64url');
  if (!(await kv.setIfAbsent(key, owner, leaseMs))) return null;
  let held = true;
  const timer = setInterval(
    () => {
      kv.extendIfEquals(key, owner, leaseMs).then(
        (ok) => {
          if (!ok) held = false;
        },
        () => undefined, // a missed renewal is retried at the next tick; the lease covers three of them
      );
    },
    Math.max(10, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return {
    stillHeld: () => held,
    async release() {
      clearInterval(timer);
      held = false;
      await kv.deleteIfEquals(key, owner).catch(() => undefined); // it expires by itself otherwise
    },
  };
}
