import type { SystemName } from '../names';
import type { WeightedQueue } from '../weighted';

/** What a worker process runs; passed as JSON in its first argument. */
export interface WorkerConfig {
  readonly system: SystemName;
  /** The Redis to use: `redis://…`, or `redis+cluster://…` for a Redis Cluster (cluster scenario). */
  readonly url: string;
  /** Tasks run at once (sub-workers). */
  readonly concurrency: number;
  /** taskq: keep at least this many finished tasks, so the parent can count them all. */
  readonly retainAtLeast: number;
  /** Record enqueue-to-start latency of every task (latency scenario). */
  readonly recordLatency: boolean;
  /**
   * Weighted and cluster scenarios: serve these queues (taskq: one WorkerPool
   * with their weights; BullMQ: a Worker per queue, the concurrency split by
   * weight) instead of the bench's one queue.
   */
  readonly queues?: readonly WeightedQueue[];
  /** Weighted scenario: count each queue's tasks and their priorities (the payloads carry `q` and `p`). */
  readonly recordPriorities?: boolean;
}

/** Parent -> worker. */
export type ParentMessage = { readonly type: 'go' } | { readonly type: 'report' } | { readonly type: 'stop' };

/** What a worker process counted. */
export interface WorkerReport {
  /** Handler calls. */
  readonly handled: number;
  /** Enqueue-to-start latency of every task, ms (empty unless recordLatency). */
  readonly latenciesMs: readonly number[];
  /** With `recordPriorities`: per queue, the priority of each task run, in the order the handlers started (empty otherwise). */
  readonly prioritiesByQueue: Readonly<Record<string, readonly number[]>>;
}

/** Worker -> parent. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'started' }
  | ({ readonly type: 'report' } & WorkerReport)
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string };
