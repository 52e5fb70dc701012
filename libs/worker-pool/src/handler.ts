import type { Logger } from '@taskq/recorder';
import type { DefaultTasks, TaskTypes, JsonValue, Task, TypeOf, ProgressValue } from '@taskq/queue';

/** What a handler gets besides the task. */
export interface TaskContext {
  /**
   * Fires when the task must stop: forced shutdown, or the grace period ran
   * out. A handler that ignores it is not waited for; its task is put back.
   */
  readonly signal: AbortSignal;
  /** 1 on the first execution; higher when the task runs again. */
  readonly attempt: number;
  /** Sub-worker running the task, e.g. `worker-4711-2`. */
  readonly worker: string;
  /** Logger bound to this task (task id, queue, attempt, worker). */
  readonly logger: Logger;
  /**
   * Reports the task's progress: a percentage from 0 to 100, or
   * `{ done, total }` (finite, `0 <= done <= total`), with an optional
   * message; anything else throws a TypeError. Fire and forget: the pool
   * stores the latest value with the task in Redis and publishes it (a
   * Monitor's `onProgress`, `Queue.progress(id)`), at most once per task per
   * `progressIntervalMs` (500 ms): the latest value wins, and one not sent
   * when the task ends is dropped. Calls after the task ended do nothing.
   * Safe to destructure (`({ progress }) => …`).
   */
  readonly progress: (value: ProgressValue, message?: string) => void;
}

/**
 * Runs one task type. Resolving marks the task Done; throwing (anything,
 * Error or not) or rejecting marks it Failed with the error's message. The
 * value it returns (or resolves to), unless undefined, is stored as the
 * task's result with its Done record (`Queue.result(id)`): it must be
 * JSON-serializable and at most the pool's `maxResultBytes` (64 KiB) as JSON
 * text, else the task is recorded Failed (not retried) with the reason.
 */
export type TaskHandler<P = JsonValue> = (task: Task<P>, context: TaskContext) => unknown;

/**
 * Handlers by task type. With a task map (`HandlerMap<{ 'send-email': { to: string } }>`)
 * each handler gets its type's payload, and unknown types are refused by the
 * compiler; a task of a type with no handler is recorded Failed.
 */
export type HandlerMap<T extends TaskTypes = DefaultTasks> = { readonly [K in TypeOf<T>]?: TaskHandler<T[K]> };
