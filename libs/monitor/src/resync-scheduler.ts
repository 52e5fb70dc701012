/** Longest wait before a failed scheduled re-read is tried again. */
const MAX_RETRY_MS = 5000;

/**
 * Runs resyncs one at a time, and coalesces requests for them.
 *
 * - `schedule()` (a gap, a reconnect) arms one timer; requests that arrive
 *   before it fires join it, so a burst of gaps costs one re-read. The delay
 *   is counted from the first request, not the last, so a steady stream of
 *   gaps cannot postpone the re-read forever.
 * - `now()` starts a re-read at once, or, when one is already running (and so
 *   may have read before the caller's reason to resync), one more right
 *   after it; every caller meanwhile shares that one.
 */
export class ResyncScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** Scheduled re-reads that failed in a row. */
  private failures = 0;

  constructor(
    private readonly run: () => Promise<void>,
    private readonly debounceMs: number,
    /** A scheduled re-read failed; another follows in `retryInMs` (undefined: none, `active()` said no). */
    private readonly onError: (err: unknown, retryInMs: number | undefined) => void,
    /** Whether a failed scheduled re-read is tried again (the monitor still runs). */
    private readonly active: () => boolean = () => true,
  ) {}

  /**
   * Requests a resync within `debounceMs`. A scheduled re-read that fails
   * (Redis reconnecting) goes to `onError` and is tried again, after twice
   * as long each time (at most 5 s), while `active()` says so.
   */
  schedule(delayMs: number = this.debounceMs): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.now().then(
        () => {
          this.failures = 0;
        },
        (err: unknown) => {
          this.failures += 1;
          const retryInMs = this.active() ? Math.min(this.debounceMs * 2 ** this.failures, MAX_RETRY_MS) : undefined;
          this.onError(err, retryInMs);
          if (retryInMs !== undefined) this.schedule(retryInMs);
        },
      );
    }, delayMs);
  }

  /** Resyncs as soon as possible; resolves when a re-read that started after this call is done. */
  now(): Promise<void> {
    // A pending scheduled request is satisfied by the run that starts next.
    this.cancel();
    if (this.running === undefined) {
      this.running = this.run().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    if (this.queued === undefined) {
      const again = (): Promise<void> => {
        this.queued = undefined;
        return this.now();
      };
      this.queued = this.running.then(again, again);
    }
    return this.queued;
  }

  /** Whether a scheduled resync is waiting for its timer. */
  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** Drops a scheduled (not yet started) resync. */
  cancel(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves when no re-read is running or queued; never rejects. */
  async idle(): Promise<void> {
    while (this.running !== undefined || this.queued !== undefined) {
      await (this.queued ?? this.running)?.catch(() => undefined);
    }
  }
}
