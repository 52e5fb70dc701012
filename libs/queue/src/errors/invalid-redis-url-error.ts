import { TaskqError } from '@taskq/recorder';

/** A Redis URL taskq will not hand to ioredis (unknown scheme, bad port or database). The URL in the message is redacted. */
export class InvalidRedisUrlError extends TaskqError {
  override readonly name = 'InvalidRedisUrlError';

  constructor(message: string) {
    super('TASKQ_INVALID_REDIS_URL', message);
  }
}
