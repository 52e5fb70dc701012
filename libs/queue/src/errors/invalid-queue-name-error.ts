import { TaskqError } from '@taskq/recorder';

/** A queue name outside 1–200 of `A-Z a-z 0-9 _ . : -`. */
export class InvalidQueueNameError extends TaskqError {
  override readonly name = 'InvalidQueueNameError';

  constructor(queue: string) {
    super('TASKQ_INVALID_QUEUE_NAME', `invalid queue name ${JSON.stringify(queue)}: use 1-200 of A-Z a-z 0-9 _ . : -`);
  }
}
