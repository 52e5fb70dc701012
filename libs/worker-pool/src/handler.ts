import type { Logger } from '@taskq/recorder';
import type { JsonValue, Task } from '@taskq/queue';

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
}

/**
 * Runs one task type. Resolving marks the task Done; throwing (anything,
 * Error or not) or rejecting marks it Failed with the error's message.
 */
export type TaskHandler<P extends JsonValue = JsonValue> = (task: Task<P>, context: TaskContext) => unknown;

/** Handlers by task type. */
export type HandlerMap = Readonly<Record<string, TaskHandler>>;
