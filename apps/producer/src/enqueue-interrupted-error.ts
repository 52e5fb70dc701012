import { TaskqError } from '@taskq/recorder';

/** A run's enqueue failed part of the way: says how many tasks are in and how to add the rest. */
export class EnqueueInterruptedError extends TaskqError {
  override readonly name = 'EnqueueInterruptedError';

  constructor(
    /** Tasks known to be enqueued: every batch before the failing one. */
    readonly enqueued: number,
    /** Tasks of the failing batch, some of which may be enqueued too. */
    readonly uncertain: number,
    readonly total: number,
    advice: string,
    cause: unknown,
  ) {
    const why = (cause instanceof Error ? cause.message : String(cause)).replace(/\.+$/, '');
    const part = uncertain > 0 ? `, and of the next ${uncertain} some may be` : '';
    super(
      'TASKQ_ENQUEUE_INTERRUPTED',
      `enqueue failed after ${enqueued} of ${total} task(s) were enqueued${part}: ${why}${advice ? `. ${advice}` : ''}`,
      { cause },
    );
  }
}
