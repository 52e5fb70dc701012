import type { SystemName } from '../names';
import type { WeightedQueue } from '../weighted';

/** What a worker process runs; passed as JSON in its first argument. */
export interface WorkerConfig {
  readonly system: SystemName;
  readonly url: string;
  /** Tasks run at once (sub-workers). */
  readonly concurrency: number;
  /** taskq: keep at least this many finished tasks, so the parent can count them all. */
  readonly retainAtLeast: number;
  /** Record enqueue-to-start latency of every task (latency scenario). */
  readonly recordLatency: boolean;
  /**
   * Weighted scenario: serve these queues (taskq: one WorkerPool with their
   * weights; BullMQ: a Worker per queue, the concurrency split by weight)
   * instead of the bench's one queue, and count each queue's tasks.
   */
  readonly queues?: readonly WeightedQueue[];
}

/** Parent -> worker. */
export type ParentMessage = { readonly type: 'go' } | { readonly type: 'report' } | { readonly type: 'stop' };

/** What a worker process counted. */
export interface WorkerReport {
  /** Handler calls. */
  readonly handled: number;
  /** Enqueue-to-start latency of every task, ms (empty unless recordLatency). */
  readonly latenciesMs: readonly number[];
  /** With `queues`: per queue, the priority of each task run, in the order the handlers started (empty otherwise). */
  readonly prioritiesByQueue: Readonly<Record<string, readonly number[]>>;
}

/** Worker -> parent. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'started' }
  | ({ readonly type: 'report' } & WorkerReport)
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string };
