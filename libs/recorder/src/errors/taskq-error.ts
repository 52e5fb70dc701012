/**
 * The base of every error taskq throws on purpose. `code` is stable across
 * releases (match on it, not on the message); `cause` keeps the error that led
 * to this one, when there is one.
 */
export class TaskqError extends Error {
  override readonly name: string = 'TaskqError';

  constructor(
    /** Stable identifier of the kind of failure, e.g. `TASKQ_INVALID_TASK`. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
