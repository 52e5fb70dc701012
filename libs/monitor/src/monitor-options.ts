import type { QueueClientOptions } from '@taskq/queue';

/** How a Monitor behaves (TOKENS.MonitorOptions in a container). Every field is optional; the defaults suit a long-running monitor. */
export interface MonitorSettings {
  /**
   * Log every applied status change at info level, as
   * `[Monitor] Task <id> is <status>` (plus ` (<reason>)` when there is one).
   * Turn it off when the library user logs changes itself or follows many tasks.
   * Default `true`.
   */
  readonly log?: boolean;
  /**
   * With `log`: also log each task's progress (what its handler reported with
   * `ctx.progress`) at info level, as `[Monitor] Task <id> progress 40% (4/10) <message>`.
   * The worker already throttles it (at most one update per task per 500 ms
   * by default). Default `true`.
   */
  readonly logProgress?: boolean;
  /**
   * Delay, in ms, between the first request for a resync (a gap in the sequence
   * numbers, a reconnect) and the re-read; requests arriving meanwhile join it,
   * so a burst of gaps costs one re-read. Default `50`.
   */
  readonly resyncDebounceMs?: number;
  /**
   * How many task ids one read of recorded statuses asks for (one HMGET each),
   * when seeding a `waitFor` and when resyncing. Default `500`.
   */
  readonly readChunkSize?: number;
  /**
   * Most task records kept in memory. Beyond it the least recently changed
   * records are forgotten (`latest()` returns undefined for them), except those
   * of followed tasks that have not reached a final status. Default `100000`.
   */
  readonly maxRecords?: number;
}

/** Options of a Monitor: its settings, the queue and the connection (see QueueClientOptions). */
export interface MonitorOptions extends MonitorSettings, QueueClientOptions {}

export const DEFAULT_MONITOR_OPTIONS: Readonly<Required<MonitorSettings>> = {
  log: true,
  logProgress: true,
  resyncDebounceMs: 50,
  readChunkSize: 500,
  maxRecords: 100_000,
};

/** Fills in defaults and rejects values that would break the monitor. */
export function resolveMonitorOptions(options: MonitorSettings = {}): Required<MonitorSettings> {
  const resolved: Required<MonitorSettings> = {
    log: options.log ?? DEFAULT_MONITOR_OPTIONS.log,
    logProgress: options.logProgress ?? DEFAULT_MONITOR_OPTIONS.logProgress,
    resyncDebounceMs: options.resyncDebounceMs ?? DEFAULT_MONITOR_OPTIONS.resyncDebounceMs,
    readChunkSize: options.readChunkSize ?? DEFAULT_MONITOR_OPTIONS.readChunkSize,
    maxRecords: options.maxRecords ?? DEFAULT_MONITOR_OPTIONS.maxRecords,
  };
  if (!Number.isFinite(resolved.resyncDebounceMs) || resolved.resyncDebounceMs < 0) {
    throw new RangeError(`resyncDebounceMs must be a number >= 0, got ${resolved.resyncDebounceMs}`);
  }
  if (!Number.isInteger(resolved.readChunkSize) || resolved.readChunkSize < 1) {
    throw new RangeError(`readChunkSize must be an integer >= 1, got ${resolved.readChunkSize}`);
  }
  if (!Number.isInteger(resolved.maxRecords) || resolved.maxRecords < 1) {
    throw new RangeError(`maxRecords must be an integer >= 1, got ${resolved.maxRecords}`);
  }
  return resolved;
}
