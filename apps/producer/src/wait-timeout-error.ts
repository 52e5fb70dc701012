import { TaskqError } from '@taskq/recorder';

/** The producer stopped waiting (--timeout-ms) before every task of its run was final. */
export class WaitTimeoutError extends TaskqError {
  override readonly name = 'WaitTimeoutError';

  constructor(
    readonly pending: number,
    readonly total: number,
    timeoutMs: number,
    /** A few of the pending ids, for the message. */
    sample: readonly string[],
  ) {
    const ids = sample.join(', ') + (pending > sample.length ? ', …' : '');
    super('TASKQ_PRODUCER_TIMEOUT', `timed out after ${timeoutMs} ms: ${pending} of ${total} tasks still pending (${ids})`);
  }
}
