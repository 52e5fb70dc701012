import type { Logger } from '@taskq/recorder';

/** A progress line after every this many tasks... */
export const PROGRESS_EVERY_TASKS = 100_000;
/** ...or after this long since the last line, ms, whichever comes first. */
export const PROGRESS_EVERY_MS = 5000;

/**
 * The progress lines of a long enqueue:
 * `enqueued 300000/1000000 task(s) (30%), 95000 tasks/s`. None at the end
 * (the caller says "enqueued N task(s)"), so a small run prints none.
 */
export class EnqueueProgress {
  private readonly started = performance.now();
  private lastTasks = 0;
  private lastAt = this.started;

  constructor(
    private readonly logger: Logger,
    private readonly queue: string,
    private readonly total: number,
    private readonly everyTasks = PROGRESS_EVERY_TASKS,
    private readonly everyMs = PROGRESS_EVERY_MS,
  ) {}

  /** Tasks enqueued so far: logs a line when enough tasks or time have passed since the last one. */
  update(enqueued: number): void {
    const now = performance.now();
    if (enqueued >= this.total) return;
    if (enqueued - this.lastTasks < this.everyTasks && now - this.lastAt < this.everyMs) return;
    this.lastTasks = enqueued;
    this.lastAt = now;
    const rate = Math.round(enqueued / Math.max(0.001, (now - this.started) / 1000));
    const percent = Math.floor((enqueued * 100) / this.total);
    this.logger.info(
      { queue: this.queue, enqueued, total: this.total, rate },
      `enqueued ${enqueued}/${this.total} task(s) (${percent}%), ${rate} tasks/s`,
    );
  }
}
