/** A task that cannot be enqueued or run: bad type or id, or a payload that is not valid JSON. */
export class InvalidTaskError extends Error {
  override readonly name = 'InvalidTaskError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
