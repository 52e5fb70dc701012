import { TaskqError } from '@taskq/recorder';

/** `Monitor.waitFor` gave up: some tasks had not reached an awaited status in time. */
export class MonitorTimeoutError extends TaskqError {
  override readonly name = 'MonitorTimeoutError';
  /** Ids of the tasks that had not reached an awaited status. */
  readonly pendingIds: readonly string[];
  /** How many tasks were awaited in total. */
  readonly total: number;

  constructor(pendingIds: readonly string[], total: number, timeoutMs: number, options?: { cause?: unknown }) {
    const sample = pendingIds.slice(0, 5).join(', ') + (pendingIds.length > 5 ? ', …' : '');
    super(
      'TASKQ_MONITOR_TIMEOUT',
      `timed out after ${timeoutMs} ms: ${pendingIds.length} of ${total} tasks still pending (${sample})`,
      options,
    );
    this.pendingIds = pendingIds;
    this.total = total;
  }
}
