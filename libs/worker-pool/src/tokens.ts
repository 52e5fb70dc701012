/** tsyringe injection tokens of @taskq/worker-pool. */
export const POOL_TOKENS = {
  /** `WorkerPoolOptions`. */
  Options: Symbol.for('taskq.WorkerPoolOptions'),
  /** `HandlerMap`: task type -> handler. */
  Handlers: Symbol.for('taskq.Handlers'),
} as const;
