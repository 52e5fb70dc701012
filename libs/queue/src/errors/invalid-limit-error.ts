import { TaskqError } from '@taskq/recorder';

/** A global limit that cannot be set: a bad concurrency, rate or type name, or too many limited types. */
export class InvalidLimitError extends TaskqError {
  override readonly name = 'InvalidLimitError';

  constructor(message: string) {
    super('TASKQ_INVALID_LIMIT', message);
  }
}
