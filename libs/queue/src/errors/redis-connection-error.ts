import { TaskqError } from '@taskq/recorder';

/** Redis could not be reached within the connect timeout. The address is redacted. */
export class RedisConnectionError extends TaskqError {
  override readonly name = 'RedisConnectionError';

  constructor(
    readonly address: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('TASKQ_REDIS_UNREACHABLE', message, options);
  }
}
