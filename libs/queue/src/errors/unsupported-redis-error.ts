import { TaskqError } from '@taskq/recorder';

/** The Redis server is too old for the queue's scripts. */
export class UnsupportedRedisError extends TaskqError {
  override readonly name = 'UnsupportedRedisError';

  constructor(message: string) {
    super('TASKQ_UNSUPPORTED_REDIS', message);
  }
}
