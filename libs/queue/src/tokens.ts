/** tsyringe injection tokens of @taskq/queue (shared ones are in @taskq/recorder's TOKENS). */
export const QUEUE_TOKENS = {
  /** `ConsumerOptions` for the Consumer. */
  ConsumerOptions: Symbol.for('taskq.ConsumerOptions'),
  /** `JanitorOptions` for the Janitor. */
  JanitorOptions: Symbol.for('taskq.JanitorOptions'),
} as const;
