/**
 * Tells every instance that a verification's stored state changed, so requests waiting on it
 * (`Prefer: wait`) are answered at once. The message carries the new stored state (no secrets:
 * status, flow id, timestamps; a prefill is sealed), so a waiting instance needs no read for it.
 * Delivery is best effort: a lost message only means a waiting request ends by its wait.
 */
export interface ChangeNotifier {
  /** `raw` is the stored state as written; null when the verification was deleted. Never throws. */
  publish(verificationId: string, raw: string | null): Promise<void>;
  subscribe(listener: ChangeListener): void;
  close(): Promise<void>;
}

export interface ChangeListener {
  changed(verificationId: string, raw: string | null): void;
  /** Messages may have been missed (the subscription reconnected): every waiter should re-read. */
  resync(): void;
}

/** Encodes a change as one pub/sub message: the id, then (after a newline) the stored state. */
export function encodeChange(verificationId: string, raw: string | null): string {
  return raw === null ? verificationId : `${verificationId}\n${raw}`;
}

export function decodeChange(message: string): { verificationId: string; raw: string | null } {
  const nl = message.indexOf('\n');
  return nl < 0
    ? { verificationId: message, raw: null }
    : { verificationId: message.slice(0, nl), raw: message.slice(nl + 1) };
}

/** The embedded mode: one process, so changes are delivered in-process (on the next tick, like a message). */
export function createMemoryChangeNotifier(): ChangeNotifier {
  const listeners: ChangeListener[] = [];
  return {
    async publish(id, raw) {
      for (const listener of listeners) setImmediate(() => listener.changed(id, raw));
    },
    subscribe(listener) {
      listeners.push(listener);
    },
    async close() {
      listeners.length = 0;
    },
  };
}
