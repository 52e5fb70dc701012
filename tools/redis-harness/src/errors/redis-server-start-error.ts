/** A redis-server did not come up; the message ends with the tail of its output. */
export class RedisServerStartError extends Error {
  override readonly name = 'RedisServerStartError';
  constructor(message: string, readonly outputTail: string, options?: { cause?: unknown }) {
    super(`${message}\n--- redis-server output (tail) ---\n${outputTail || '(no output)'}`, options);
  }
}
