/**
 * The Redis names a queue's status records live under. @taskq/queue's
 * `queueKeys()` builds them (with every other key of the queue); the recorder
 * only needs these.
 */
export interface RecordKeys {
  /** Hash task id -> current status record (JSON). */
  readonly status: string;
  /** Hash task id -> stored task; an enqueued task's body stands for its first record. */
  readonly tasks: string;
  /** Counter of the queue's transitions; every record carries the next value. */
  readonly seq: string;
  /** Pub/sub channel every record is published on. */
  readonly events: string;
}
