import { TaskqError } from '@taskq/recorder';

/** The producer was told to stop (SIGINT/SIGTERM): what is in the queue, and what to do about the rest. */
export class ProducerInterruptedError extends TaskqError {
  override readonly name = 'ProducerInterruptedError';

  private constructor(message: string) {
    super('TASKQ_PRODUCER_INTERRUPTED', message);
  }

  /** Stopped between two batches of the enqueue: every batch sent is whole. */
  static whileEnqueuing(signal: string, enqueued: number, total: number, advice: string): ProducerInterruptedError {
    return new ProducerInterruptedError(
      `${signal}: stopped after ${enqueued} of ${total} task(s) were enqueued (the batch being sent went in whole); they stay in the queue and run. ${advice}`,
    );
  }

  /** Stopped while waiting for the tasks to be final: every task is enqueued. */
  static whileWaiting(signal: string, pending: number, total: number, counts: Record<string, number>): ProducerInterruptedError {
    const seen = Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([status, n]) => `${n} ${status}`);
    return new ProducerInterruptedError(
      `${signal}: stopped waiting with ${pending} of ${total} task(s) not final yet${seen.length > 0 ? ` (so far ${seen.join(', ')})` : ''}; all ${total} are enqueued and run without the producer (taskq stats and taskq watch follow them)`,
    );
  }
}
