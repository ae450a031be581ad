import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors';
import type { KeyValueStore } from '../storage/key-value-store';
import type { StorageKeys } from '../storage/storage-keys';
import { hashOf } from './flow-store';

const ticketSchema = z.object({
  verificationId: z.string(),
  expiresAt: z.number(),
  /** Hash of the owner binding of the browser that redeemed it; null until then. */
  redeemedBy: z.string().nullable(),
});

/** A used or expired ticket is remembered this long past its expiry, to answer "used"/"expired" rather than "invalid". */
const REMEMBER_MS = 7 * 24 * 3600 * 1000;

export interface StartTickets {
  /** A new single-use ticket for the verification: the opaque value (shown once) and when it expires. */
  issue(
    verificationId: string,
    ttlMs: number,
  ): Promise<{ ticket: string; ticketHash: string; expiresAt: number }>;
  /**
   * Binds the ticket to this browser (owner hash) and returns its verification id. The same browser
   * may redeem it again (a reload starts a fresh widget link); any other gets `ticket_used`.
   */
  redeem(ticket: string, ownerHash: string): Promise<string>;
  remove(ticketHash: string): Promise<void>;
}

/** Start tickets: random, stored only as a hash, single use per browser, with an expiry. */
export function createStartTickets(deps: {
  kv: KeyValueStore;
  keys: StorageKeys;
  clock: () => number;
}): StartTickets {
  const { kv, keys, clock } = deps;
  return {
    async issue(verificationId, ttlMs) {
      const ticket = randomBytes(24).toString('base64url');
      const ticketHash = hashOf(ticket);
      const expiresAt = clock() + ttlMs;
      const record = JSON.stringify({ verificationId, expiresAt, redeemedBy: null });
      await kv.set(keys.ticket(ticketHash), record, ttlMs + REMEMBER_MS);
      return { ticket, ticketHash, expiresAt };
    },
    async redeem(ticket, ownerHash) {
      const key = keys.ticket(hashOf(ticket));
      for (;;) {
        const raw = await kv.get(key);
        const parsed = raw === null ? null : ticketSchema.safeParse(JSON.parse(raw));
        if (!parsed?.success) throw new AppError('ticket_invalid', 'This start link is not valid.');
        const record = parsed.data;
        if (record.redeemedBy !== null) {
          if (record.redeemedBy === ownerHash) return record.verificationId;
          throw new AppError('ticket_used', 'This start link was already used.');
        }
        if (clock() > record.expiresAt) throw new AppError('ticket_expired', 'This start link has expired.');
        const next = JSON.stringify({ ...record, redeemedBy: ownerHash });
        // Two browsers racing for one ticket: exactly one compare-and-set wins.
        const ttlMs = record.expiresAt - clock() + REMEMBER_MS;
        if (await kv.compareAndSet(key, raw, next, ttlMs)) return record.verificationId;
      }
    },
    remove: (ticketHash) => kv.delete([keys.ticket(ticketHash)]),
  };
}
