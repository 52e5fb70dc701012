/** Redis could not be reached within the connect timeout. The address is redacted. */
export class RedisConnectionError extends Error {
  override readonly name = 'RedisConnectionError';
  constructor(
    readonly address: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
