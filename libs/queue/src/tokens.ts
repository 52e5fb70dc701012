/**
 * tsyringe injection tokens of taskq, for apps that wire it with a container
 * (see `registerQueue`, `registerMonitor`, `registerWorkerPool`). Every value
 * here is a plain object or a client; the classes themselves are registered
 * by the helpers, so no decorator metadata is needed.
 */
export const TOKENS = {
  /** `Connection`: a URL, ioredis options, or an ioredis client (shared by every component). */
  Connection: Symbol.for('taskq.Connection'),
  /** `QueueConfig`: queue name, key prefix, retention. */
  QueueConfig: Symbol.for('taskq.QueueConfig'),
  /** A `Logger` (pino-compatible). Optional: silent when not registered. */
  Logger: Symbol.for('taskq.Logger'),
  /** `JanitorOptions`. Optional. */
  JanitorOptions: Symbol.for('taskq.JanitorOptions'),
  /** `QueueOptions` of the Queue beyond the shared ones (`waitForReplicas`). Optional. */
  QueueOptions: Symbol.for('taskq.QueueOptions'),
  /** `ConsumerOptions` (the consumer id). Optional. */
  ConsumerOptions: Symbol.for('taskq.ConsumerOptions'),
  /** `WorkerPoolOptions` of @taskq/worker-pool (without handlers). Optional. */
  WorkerPoolOptions: Symbol.for('taskq.WorkerPoolOptions'),
  /** Handlers by task type, for @taskq/worker-pool. Optional: none. */
  Handlers: Symbol.for('taskq.Handlers'),
  /** `MonitorOptions` of @taskq/monitor. Optional. */
  MonitorOptions: Symbol.for('taskq.MonitorOptions'),
} as const;
