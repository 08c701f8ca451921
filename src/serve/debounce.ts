/**
 * The pause before a completion request goes to the model. Each request waits `delayMs`; a newer one supersedes
 * it (the older resolves false and is dropped), so a burst of keystrokes costs one model call. A request marked
 * immediate (a newline, an explicit trigger) goes at once.
 */

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class Debouncer {
  private pending: { handle: unknown; resolve: (go: boolean) => void; cleanup: () => void } | null = null;

  constructor(
    private readonly delayMs: () => number,
    private readonly timers: Timers = realTimers,
  ) {}

  /** Resolves true when the request should go ahead, false when it was superseded or cancelled first. */
  wait(options: { immediate?: boolean; signal?: AbortSignal } = {}): Promise<boolean> {
    this.supersede();
    if (options.signal?.aborted) return Promise.resolve(false);
    const delay = options.immediate ? 0 : Math.max(0, this.delayMs());
    if (delay === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const onAbort = () => settle(false);
      const settle = (go: boolean) => {
        if (this.pending?.resolve !== settle) return;
        this.timers.clearTimeout(this.pending.handle);
        this.pending.cleanup();
        this.pending = null;
        resolve(go);
      };
      const handle = this.timers.setTimeout(() => settle(true), delay);
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending = { handle, resolve: settle, cleanup: () => options.signal?.removeEventListener('abort', onAbort) };
    });
  }

  /** Drops the request waiting now, if any (it resolves false): a newer one was answered without waiting. */
  supersede(): void {
    this.pending?.resolve(false);
  }
}
