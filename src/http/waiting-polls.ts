import type { Logger } from 'pino';
import type { ChangeListener } from '../verification/change-notifier';
import type { PollView, PollViews } from './poll-view';

/** A held poll: answered with a new view when its verification's ETag changes, or with `undefined` (unchanged). */
export interface Waiter {
  verificationId: string;
  etag: string;
  session: string;
  answer(view: PollView | undefined): void;
  /** Set by the registry while held. */
  timer?: NodeJS.Timeout;
}

export interface WaitingPollSettings {
  maxWaiting: number;
  maxPerSession: number;
}

/** How long to remember that an id changed, for a poll that read just before the message came. */
const RECENT_MS = 10_000;
/** A failed wake-up read is tried again after this. */
const RETRY_MS = 250;
/** Wake-up views being built at once (see `pump`). */
const MAX_IN_FLIGHT = 128;

/**
 * Requests held under `Prefer: wait`, keyed by verification id. A change message for an id builds
 * that id's new view once (from the state the message carries; a re-read only after a reconnect)
 * and answers all its waiters; messages arriving in the same tick are handled together. Held
 * requests cost a timer each and no Redis round trips.
 */
export class WaitingPolls implements ChangeListener {
  private readonly byId = new Map<string, Set<Waiter>>();
  private readonly perSession = new Map<string, number>();
  /** Changes not yet applied: raw state, or undefined for "re-read". */
  private readonly pending = new Map<string, string | null | undefined>();
  /** Message sequence and the last sequence each id changed at (for polls that read before a message). */
  private sequence = 0;
  private readonly recent = new Map<string, { seq: number; at: number }>();
  private scheduled = false;
  private inFlight = 0;
  private closed = false;
  private count = 0;

  constructor(
    private readonly reader: PollViews,
    private readonly settings: WaitingPollSettings,
    private readonly logger: Logger,
  ) {}

  get size(): number {
    return this.count;
  }

  /** The message sequence now; pass it to `hold` to learn whether the id changed since. */
  mark(): number {
    return this.sequence;
  }

  /**
   * Holds the waiter for `waitS` seconds. False when a bound is reached or the registry is closed
   * (answer at once instead), or when the id changed after `mark` (read again instead).
   */
  hold(waiter: Waiter, waitS: number, mark: number): 'held' | 'full' | 'changed' {
    if (this.closed || this.count >= this.settings.maxWaiting) return 'full';
    const ofSession = this.perSession.get(waiter.session) ?? 0;
    if (ofSession >= this.settings.maxPerSession) return 'full';
    const recent = this.recent.get(waiter.verificationId);
    if (recent !== undefined && recent.seq > mark) return 'changed';
    let set = this.byId.get(waiter.verificationId);
    if (set === undefined) this.byId.set(waiter.verificationId, (set = new Set()));
    set.add(waiter);
    this.perSession.set(waiter.session, ofSession + 1);
    this.count++;
    waiter.timer = setTimeout(() => this.release(waiter, undefined), waitS * 1000);
    return 'held';
  }

  /** The client went away: forget the waiter without answering. */
  drop(waiter: Waiter): void {
    this.remove(waiter);
  }

  changed(verificationId: string, raw: string | null): void {
    this.sequence++;
    const now = Date.now();
    this.recent.delete(verificationId);
    this.recent.set(verificationId, { seq: this.sequence, at: now });
    for (const [id, entry] of this.recent) {
      if (now - entry.at < RECENT_MS) break;
      this.recent.delete(id);
    }
    if (!this.byId.has(verificationId)) return;
    this.pending.set(verificationId, raw);
    this.schedule();
  }

  resync(): void {
    this.sequence++;
    for (const id of this.byId.keys()) this.pending.set(id, undefined);
    this.schedule();
  }

  /** Shutdown: answers every held request now (unchanged) and holds no more. */
  releaseAll(): number {
    this.closed = true;
    let released = 0;
    for (const set of [...this.byId.values()])
      for (const waiter of [...set]) {
        this.release(waiter, undefined);
        released++;
      }
    return released;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.pump());
  }

  /**
   * Builds the views of changed ids, at most MAX_IN_FLIGHT at a time: a mass change (10,000 states
   * at once) then keeps a small working set instead of 10,000 reads, reports and bodies alive at
   * once (which the garbage collector copied from scavenge to scavenge), and the first answers go
   * out while later reads are still on their way. A read that hangs holds one slot, not the rest.
   */
  private pump(): void {
    this.scheduled = false;
    for (const [id, raw] of this.pending) {
      if (this.inFlight >= MAX_IN_FLIGHT) return;
      this.pending.delete(id);
      if (!this.byId.has(id)) continue;
      this.inFlight++;
      const viewed = raw === undefined ? this.reader.read(id) : this.reader.viewOf(id, raw);
      viewed.then(
        (view) => {
          this.settled();
          this.wake(id, view);
        },
        (err: unknown) => {
          this.settled();
          // Read again shortly (a burst of wake-ups can outlast the command deadline); the waiters
          // end by their wait at the latest.
          this.logger.warn(
            { err: { message: (err as Error).message }, verificationId: id },
            'wake-up read failed',
          );
          const timer = setTimeout(() => {
            if (!this.byId.has(id)) return;
            this.pending.set(id, undefined);
            this.schedule();
          }, RETRY_MS);
          timer.unref();
        },
      );
    }
  }

  private settled(): void {
    this.inFlight--;
    if (this.pending.size > 0) this.schedule();
  }

  private wake(id: string, view: PollView): void {
    const set = this.byId.get(id);
    if (set === undefined) return;
    for (const waiter of [...set]) if (waiter.etag !== view.etag) this.release(waiter, view);
  }

  private release(waiter: Waiter, view: PollView | undefined): void {
    if (!this.remove(waiter)) return;
    waiter.answer(view);
  }

  private remove(waiter: Waiter): boolean {
    const set = this.byId.get(waiter.verificationId);
    if (set === undefined || !set.delete(waiter)) return false;
    if (set.size === 0) this.byId.delete(waiter.verificationId);
    clearTimeout(waiter.timer);
    const ofSession = (this.perSession.get(waiter.session) ?? 1) - 1;
    if (ofSession <= 0) this.perSession.delete(waiter.session);
    else this.perSession.set(waiter.session, ofSession);
    this.count--;
    return true;
  }
}
