import type { SystemName } from '../names';

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
}

/** Parent -> worker. */
export type ParentMessage = { readonly type: 'go' } | { readonly type: 'report' } | { readonly type: 'stop' };

/** What a worker process counted. */
export interface WorkerReport {
  /** Handler calls. */
  readonly handled: number;
  /** Enqueue-to-start latency of every task, ms (empty unless recordLatency). */
  readonly latenciesMs: readonly number[];
}

/** Worker -> parent. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'started' }
  | ({ readonly type: 'report' } & WorkerReport)
  | { readonly type: 'stopped' }
  | { readonly type: 'error'; readonly message: string };
