import { TaskqError } from '@taskq/recorder';

/** A task that cannot be enqueued or run: bad type or id, or a payload that is not valid JSON. */
export class InvalidTaskError extends TaskqError {
  override readonly name = 'InvalidTaskError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('TASKQ_INVALID_TASK', message, options);
  }
}
