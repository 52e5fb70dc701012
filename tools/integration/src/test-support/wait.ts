/** Bounded waits: each gives up after its own timeout with a message that says what was awaited. */

export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

/** Settles like `promise`, or rejects with WaitTimeoutError(`what` + `details()`) after `timeoutMs`. */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  what: string,
  details: () => string = () => '',
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const extra = details();
      reject(new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${extra ? `\n${extra}` : ''}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface WaitUntilOptions {
  readonly timeoutMs: number;
  /** What is awaited, for the timeout message. */
  readonly what: string;
  /** How often the condition is checked, ms. Default 50. */
  readonly intervalMs?: number;
  /** Extra text for the timeout message (e.g. the last value seen). */
  readonly details?: () => string;
}

/**
 * Checks `condition` until it returns something other than undefined/false
 * (which it resolves with), or rejects with WaitTimeoutError. For state that
 * has no event to wait on (Redis keys); the interval is a polling period, not
 * a guess at how long something takes.
 */
export async function waitUntil<T>(
  condition: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitUntilOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) {
      const extra = options.details?.() ?? '';
      throw new WaitTimeoutError(
        `timed out after ${options.timeoutMs} ms waiting for ${options.what}${extra ? `\n${extra}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
