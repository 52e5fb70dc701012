import { TaskqError } from '@taskq/recorder';

/** The monitor is not subscribed: `start()` was not called, or `stop()` was. */
export class MonitorNotRunningError extends TaskqError {
  override readonly name = 'MonitorNotRunningError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('TASKQ_MONITOR_NOT_RUNNING', message, options);
  }
}
