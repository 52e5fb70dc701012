/** The monitor is not subscribed: `start()` was not called, or `stop()` was. */
export class MonitorNotRunningError extends Error {
  override readonly name = 'MonitorNotRunningError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
