import { DEFAULT_MAX_RESULT_BYTES, type BackoffStrategy, type DefaultTasks, type TaskTypes, type JanitorSettings, type RetentionClientOptions } from '@taskq/queue';
import type { HandlerMap } from './handler';
import { MAX_TIMER_MS } from './long-timeout';
import { DEFAULT_PROGRESS_INTERVAL_MS } from './task-runner';
import type { QueueSelectionOptions } from './queue-selection';

/** Where a pool's heartbeats come from (see WorkerPoolSettings.heartbeat). */
export type HeartbeatMode = 'thread' | 'main';

/**
 * How a pool works (TOKENS.WorkerPoolOptions in a container): everything but
 * the queue, connection and handlers — and `queues` with `strict`, to serve
 * several queues (see QueueSelectionOptions).
 */
export interface WorkerPoolSettings extends Omit<QueueSelectionOptions, 'queue'> {
  /** Sub-workers: tasks run at once in this process. Default 1. */
  readonly concurrency?: number;
  /** Interval of the consumer heartbeat, ms. Must stay well below the janitor's stale limit (5000). Default 1000. */
  readonly heartbeatMs?: number;
  /**
   * `'thread'`: heartbeats come from a worker thread with its own Redis
   * connection, so they keep beating while a handler keeps the event loop busy
   * (CPU-bound work) and the janitor never takes a busy worker for a dead one.
   * `'main'`: from the main thread's event loop. Default `'thread'`; a
   * connection a thread cannot open (ioredis-mock, a Cluster client) uses
   * `'main'`, and the pool logs that it does.
   */
  readonly heartbeat?: HeartbeatMode;
  /**
   * The janitor the pool runs: it returns the tasks of workers that died
   * (missed heartbeats for `staleAfterMs`, default 5 s) to the queue and applies
   * retention. Safe in every process (one pass at a time, under a Redis mutex).
   * `false` runs none (then run a Janitor elsewhere). Default `{}`: on, with
   * the Janitor's defaults.
   */
  readonly janitor?: JanitorSettings | false;
  /** Consumer id (one processing list per consumer), e.g. a Kubernetes pod name. Default `<host>-<pid>-<random>`. */
  readonly consumerId?: string;
  /**
   * An idle pool is woken by a message when tasks are enqueued and sleeps
   * until the next delayed task is due; it also looks at the queue this
   * often in case a message was lost, ms. Default 5000.
   */
  readonly idlePollMs?: number;
  /**
   * When tasks trickle into a pool that waits for work (its queue was empty at
   * its last fetch, the pool is listed as waiting, and its last tasks came
   * less than this many ms apart), a finished task's ack — its Done or Failed
   * record — may wait this long for the pool's next fetch and go in the same
   * script call: one call per task instead of two. The record is at most that
   * much later; a lone task (none in the ackLingerMs before it), or a pool
   * that fetches anyway, sends its acks at once. 0: every ack goes at once.
   * Default 10, ms.
   */
  readonly ackLingerMs?: number;
  /**
   * Opt-in (experimental): take tasks in the wake message. While it has idle
   * sub-workers and nothing is ready, the pool is listed once per idle one;
   * an enqueue then moves each new task straight to such a pool's processing
   * list and publishes it to the pool, which starts the handler at once and
   * claims the task (records it InProgress) with its next call, lingering
   * like an ack. One hop from enqueue to start instead of two (wake, then
   * fetch), and no fetch per task. The window it opens: a handler may begin
   * before a cancel or a janitor's recovery lands; then its claim is refused
   * and its handler aborted (outcome `Unclaimed`, nothing recorded) — a side
   * effect of those first moments can happen for a task that ends Cancelled
   * or that runs again elsewhere. A handler that blocks the event loop is
   * still recorded InProgress while it runs: a claim that goes at once is
   * written before the handler starts, a lingering one is sent by the
   * heartbeat thread once it is 50 ms past its linger (not with heartbeats on
   * the main thread). Not for paused queues, queues with global
   * limits or tasks ready already, tasks with a priority, flow steps or
   * bodies over 8 KiB: those are fetched as usual. See docs/design/hand-off.md.
   * Default false.
   */
  readonly handOff?: boolean;
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
  /**
   * Progress that handlers report (`ctx.progress`) is written to Redis at
   * most once per task per this many ms, the latest value winning; the
   * updates of all the queue's tasks go together, one script call per
   * interval at most, ms. Default 500.
   */
  readonly progressIntervalMs?: number;
  /**
   * Largest result stored, in bytes of its JSON text (UTF-8). A handler's
   * return value (other than undefined) is stored as the task's result with
   * its Done record; one that is larger, or not JSON, makes the task Failed
   * (not retried) with the reason. Default 65536 (64 KiB).
   */
  readonly maxResultBytes?: number;
  /** Custom backoff strategies by name, for tasks enqueued with `backoff: { type: 'custom', name }`. Default none. */
  readonly backoffStrategies?: Readonly<Record<string, BackoffStrategy>>;
}

/**
 * Options of a WorkerPool: the queue and connection (QueueClientOptions), the
 * handlers by task type, and its settings.
 */
export interface WorkerPoolOptions<T extends TaskTypes = DefaultTasks> extends WorkerPoolSettings, RetentionClientOptions {
  /** Handlers by task type (more can be added with `handle()`). Default none. */
  readonly handlers?: HandlerMap<T>;
}

/** Default of WorkerPoolSettings.ackLingerMs. */
export const DEFAULT_ACK_LINGER_MS = 10;
/** Most an ack may linger: a Done record later than this would no longer be "as it happens". */
export const MAX_ACK_LINGER_MS = 1000;

export interface ResolvedPoolOptions {
  readonly concurrency: number;
  readonly heartbeatMs: number;
  readonly heartbeat: HeartbeatMode;
  readonly idlePollMs: number;
  readonly ackLingerMs: number;
  readonly handOff: boolean;
  readonly graceMs: number;
  readonly reconcileMs: number;
  readonly namePrefix: string;
  readonly progressIntervalMs: number;
  readonly maxResultBytes: number;
  readonly backoffStrategies: ReadonlyMap<string, BackoffStrategy>;
}

export function resolvePoolOptions(options: WorkerPoolSettings): ResolvedPoolOptions {
  const resolved = {
    concurrency: options.concurrency ?? 1,
    heartbeatMs: options.heartbeatMs ?? 1000,
    heartbeat: options.heartbeat ?? 'thread',
    idlePollMs: options.idlePollMs ?? 5000,
    ackLingerMs: options.ackLingerMs ?? DEFAULT_ACK_LINGER_MS,
    handOff: options.handOff ?? false,
    graceMs: options.graceMs ?? 25_000,
    reconcileMs: options.reconcileMs ?? 5000,
    namePrefix: options.namePrefix ?? 'worker',
    progressIntervalMs: options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS,
    maxResultBytes: options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES,
    backoffStrategies: new Map(Object.entries(options.backoffStrategies ?? {})),
  };
  if (!Number.isInteger(resolved.concurrency) || resolved.concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number >= 1, got ${resolved.concurrency}`);
  }
  for (const key of ['heartbeatMs', 'idlePollMs', 'reconcileMs', 'progressIntervalMs'] as const) {
    if (!(resolved[key] > 0 && resolved[key] <= MAX_TIMER_MS)) throw new RangeError(`${key} must be > 0 and <= ${MAX_TIMER_MS}, got ${resolved[key]}`);
  }
  if (typeof resolved.handOff !== 'boolean') throw new RangeError(`handOff must be true or false, got ${String(resolved.handOff)}`);
  if (!(Number.isSafeInteger(resolved.maxResultBytes) && resolved.maxResultBytes >= 1)) {
    throw new RangeError(`maxResultBytes must be a whole number >= 1, got ${resolved.maxResultBytes}`);
  }
  if (resolved.heartbeat !== 'thread' && resolved.heartbeat !== 'main') {
    throw new RangeError(`heartbeat must be 'thread' or 'main', got ${JSON.stringify(resolved.heartbeat)}`);
  }
  if (!(resolved.ackLingerMs >= 0 && resolved.ackLingerMs <= MAX_ACK_LINGER_MS)) {
    throw new RangeError(`ackLingerMs must be >= 0 and <= ${MAX_ACK_LINGER_MS}, got ${resolved.ackLingerMs}`);
  }
  if (!(resolved.graceMs >= 0 && resolved.graceMs <= MAX_TIMER_MS)) {
    throw new RangeError(`graceMs must be >= 0 and <= ${MAX_TIMER_MS}, got ${resolved.graceMs}`);
  }
  return resolved;
}
