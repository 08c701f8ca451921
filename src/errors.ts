/** Errors a user can hit: each names what went wrong and how to fix it. */
export class TailorError extends Error {
  constructor(
    /** Stable code, for tests and the worker protocol. */
    readonly code: string,
    message: string,
    /** What the user can do about it. */
    readonly fix: string,
  ) {
    super(message);
    this.name = 'TailorError';
  }

  /** Message and fix in one line, as a notification or the CLI shows it. */
  override toString(): string {
    return this.fix ? `${this.message} ${this.fix}` : this.message;
  }
}

/** The user (or a superseding request) cancelled the work. Not a failure. */
export class CancelledError extends Error {
  constructor(what = 'The operation') {
    super(`${what} was cancelled.`);
    this.name = 'CancelledError';
  }
}

export function isCancelled(error: unknown): error is CancelledError {
  return error instanceof CancelledError || (error instanceof Error && error.name === 'CancelledError');
}

export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw new CancelledError(what);
}
