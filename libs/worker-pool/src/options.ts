import type { BackoffStrategy } from '@taskq/queue';
import { MAX_TIMER_MS } from './long-timeout';

export interface WorkerPoolOptions {
  /** Sub-workers: tasks run at once in this process. Default 1. */
  readonly concurrency?: number;
  /** Interval of the consumer heartbeat, ms. Must stay well below the janitor's stale limit (5000). Default 1000. */
  readonly heartbeatMs?: number;
  /**
   * Redis URL for a heartbeat thread with its own connection, so heartbeats
   * keep beating while a handler blocks the event loop (CPU-bound work).
   * Default: none (heartbeats from the main thread; needed for the embedded
   * in-memory Redis, which a thread cannot reach).
   */
  readonly heartbeatRedisUrl?: string;
  /**
   * An idle pool is woken by a message when tasks are enqueued and sleeps
   * until the next delayed task is due; it also looks at the queue this
   * often in case a message was lost, ms. Default 5000.
   */
  readonly idlePollMs?: number;
  /** Time in-flight tasks get to finish on stop() before they are aborted and put back, ms. Default 25000. */
  readonly graceMs?: number;
  /**
   * How often the pool checks its processing list for tasks it is not running
   * (a fetch whose reply was lost to a dropped connection) and returns them
   * to the queue, ms. It also checks after every failed fetch. Default 5000.
   */
  readonly reconcileMs?: number;
  /** Name prefix of the sub-workers; they are `<prefix>-<pid>-<n>`. Default `worker`. */
  readonly namePrefix?: string;
  /** Custom backoff strategies by name, for tasks enqueued with `backoff: { type: 'custom', name }`. Default none. */
  readonly backoffStrategies?: Readonly<Record<string, BackoffStrategy>>;
}

export interface ResolvedPoolOptions {
  readonly concurrency: number;
  readonly heartbeatMs: number;
  readonly heartbeatRedisUrl: string | undefined;
  readonly idlePollMs: number;
  readonly graceMs: number;
  readonly reconcileMs: number;
  readonly namePrefix: string;
  readonly backoffStrategies: ReadonlyMap<string, BackoffStrategy>;
}

export function resolvePoolOptions(options: WorkerPoolOptions): ResolvedPoolOptions {
  const resolved = {
    concurrency: options.concurrency ?? 1,
    heartbeatMs: options.heartbeatMs ?? 1000,
    heartbeatRedisUrl: options.heartbeatRedisUrl,
    idlePollMs: options.idlePollMs ?? 5000,
    graceMs: options.graceMs ?? 25_000,
    reconcileMs: options.reconcileMs ?? 5000,
    namePrefix: options.namePrefix ?? 'worker',
    backoffStrategies: new Map(Object.entries(options.backoffStrategies ?? {})),
  };
  if (!Number.isInteger(resolved.concurrency) || resolved.concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number >= 1, got ${resolved.concurrency}`);
  }
  for (const key of ['heartbeatMs', 'idlePollMs', 'reconcileMs'] as const) {
    if (!(resolved[key] > 0 && resolved[key] <= MAX_TIMER_MS)) throw new RangeError(`${key} must be > 0 and <= ${MAX_TIMER_MS}, got ${resolved[key]}`);
  }
  if (!(resolved.graceMs >= 0 && resolved.graceMs <= MAX_TIMER_MS)) {
    throw new RangeError(`graceMs must be >= 0 and <= ${MAX_TIMER_MS}, got ${resolved.graceMs}`);
  }
  return resolved;
}
