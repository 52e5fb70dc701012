import { TaskqError } from '@taskq/recorder';

/**
 * Writes were made on the master, but fewer replicas than asked confirmed
 * them within the time given (`waitForReplicas`): should the master fail
 * before they reach a replica, a failover loses them. They are in effect on
 * the master (tasks are queued and will run unless that happens).
 */
export class NotReplicatedError extends TaskqError {
  override readonly name = 'NotReplicatedError';

  constructor(
    /** What was written (`3 task(s) of queue emails (t1, t2, t3)`). */
    readonly what: string,
    /** Replicas that confirmed the writes. */
    readonly replicas: number,
    /** Replicas asked for. */
    readonly wanted: number,
    readonly timeoutMs: number,
    /** Ids of the tasks written (enqueue: every task of the call, generated ids included). */
    readonly taskIds: readonly string[] = [],
  ) {
    super(
      'TASKQ_NOT_REPLICATED',
      `${what} written to the master, but only ${replicas} of ${wanted} replica(s) confirmed it within ${timeoutMs} ms: a failover before they get it would lose it`,
    );
  }
}
