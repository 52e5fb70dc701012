import type { ProgressItem } from '@taskq/queue';
import type { Logger } from '@taskq/recorder';

/** The clock and timer a batcher uses (tests pass their own). */
export interface BatcherTimers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_TIMERS: BatcherTimers = {
  now: () => performance.now(),
  // unref: a pending flush keeps no process alive (the pool stops its batchers)
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A failed flush is logged on the first failure in a row, then every this many. */
const FAILURE_LOG_EVERY = 100;

/**
 * Throttles and batches the progress that a queue's running tasks report
 * (ctx.progress). Each task's latest value waits here; a flush sends the
 * latest value of every task with news in ONE script call, and flushes are
 * at least `intervalMs` apart (the first report after a quiet spell goes at
 * once, at the next turn of the event loop). So each task is written at most
 * once per interval, the latest value wins, and a tight loop of reports costs
 * Redis nothing more than one call per interval. One flush is in flight at a
 * time. Best effort: an update Redis refuses (the task is no longer this
 * fetch's) or does not take (an error) is dropped; the next one replaces it.
 * A task that ends is forgotten: a value not sent by then is dropped (its
 * outcome, recorded next, says more).
 */
export class ProgressBatcher {
  private readonly pending = new Map<string, ProgressItem>();
  private lastFlushAt = -Infinity;
  private timer: unknown;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  private failures = 0;
  /** Flushes sent (script calls), for tests and stats. */
  flushes = 0;

  constructor(
    private readonly send: (items: readonly ProgressItem[]) => Promise<boolean[]>,
    readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly timers: BatcherTimers = REAL_TIMERS,
  ) {}

  /** A task's new progress (replaces any not sent yet). */
  report(item: ProgressItem): void {
    if (this.stopped) return;
    this.pending.delete(item.id); // re-inserted: a flush sends tasks in the order of their latest report
    this.pending.set(item.id, item);
    this.schedule();
  }

  /** A task ended: its progress not sent yet is dropped. */
  forget(taskId: string): void {
    this.pending.delete(taskId);
  }

  /** Number of tasks whose latest progress waits for a flush. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Sends nothing more; resolves once a flush in flight settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.pending.clear();
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.inFlight !== undefined || this.pending.size === 0 || this.stopped) return;
    const wait = Math.max(0, this.lastFlushAt + this.intervalMs - this.timers.now());
    this.timer = this.timers.setTimeout(() => this.flush(), Math.ceil(wait));
  }

  private flush(): void {
    this.timer = undefined;
    if (this.stopped || this.pending.size === 0) return;
    // a timer may fire a little early: never two flushes closer than the interval
    if (this.timers.now() < this.lastFlushAt + this.intervalMs) return this.schedule();
    this.lastFlushAt = this.timers.now();
    const items = [...this.pending.values()];
    this.pending.clear();
    this.flushes++;
    this.inFlight = this.sendSafely(items).finally(() => {
      this.inFlight = undefined;
      this.schedule();
    });
  }

  private async sendSafely(items: readonly ProgressItem[]): Promise<void> {
    let flags: boolean[];
    try {
      flags = await this.send(items);
    } catch (err) {
      this.failures++;
      if (this.failures === 1 || this.failures % FAILURE_LOG_EVERY === 0) {
        this.logger.warn({ err, dropped: items.length, failures: this.failures }, `progress update failed (${this.failures} in a row); dropped the progress of ${items.length} task(s): ${String(err)}`);
      }
      return;
    }
    this.failures = 0;
    flags.forEach((ok, i) => {
      if (!ok) this.logger.debug({ taskId: items[i].id }, `progress of ${items[i].id} refused: this fetch no longer holds the task`);
    });
  }
}
