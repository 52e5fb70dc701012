/**
 * Thrown by a handler to say "retrying cannot help": the task goes straight
 * to the dead-letter list, whatever attempts it has left.
 */
export class UnrecoverableError extends Error {
  override readonly name = 'UnrecoverableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
