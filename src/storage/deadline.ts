/**
 * Deadlines for many short operations with one timer. node-redis' own per-command timeout creates an
 * AbortSignal.timeout per command (a timer that is never cleared, and a DOMException when it fires):
 * at a few thousand polls per second that was 8 % of the CPU and most of the GC pressure.
 * Here each operation costs one entry in a set; a sweep every `timeoutMs / 4` rejects the overdue.
 */
export interface Deadlines {
  within<T>(operation: Promise<T>): Promise<T>;
  stop(): void;
}

export class DeadlineExceeded extends Error {
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'DeadlineExceeded';
  }
}

interface Pending {
  at: number;
  reject(err: Error): void;
}

export function createDeadlines(timeoutMs: number): Deadlines {
  const pending = new Set<Pending>();
  const timer = setInterval(
    () => {
      const now = performance.now();
      for (const entry of pending) {
        if (entry.at > now) continue;
        pending.delete(entry);
        entry.reject(new DeadlineExceeded(timeoutMs));
      }
    },
    Math.max(10, Math.floor(timeoutMs / 4)),
  );
  timer.unref();
  return {
    within<T>(operation: Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const entry: Pending = { at: performance.now() + timeoutMs, reject };
        pending.add(entry);
        operation.then(
          (value) => {
            pending.delete(entry);
            resolve(value);
          },
          (err: unknown) => {
            pending.delete(entry);
            reject(err);
          },
        );
      });
    },
    stop: () => clearInterval(timer),
  };
}
