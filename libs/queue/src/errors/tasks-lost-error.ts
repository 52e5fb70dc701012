import { TaskqError } from '@taskq/recorder';
import type { DataLoss } from '../epoch';

/**
 * Tasks a client followed are unknown to Redis because Redis lost the queue's
 * data (see DataLoss): they will not run, and their outcome will never be
 * recorded. Enqueue them again.
 */
export class TasksLostError extends TaskqError {
  override readonly name = 'TasksLostError';
  /** Ids of the lost tasks (all of them, or the first ones when `count` is larger). */
  readonly taskIds: readonly string[];
  /** How many tasks were lost. */
  readonly count: number;

  constructor(
    /** What was lost, and how it shows. */
    readonly loss: DataLoss,
    taskIds: readonly string[],
    count: number = taskIds.length,
  ) {
    const sample = taskIds.slice(0, 5).join(', ') + (count > 5 ? ', …' : '');
    super(
      'TASKQ_TASKS_LOST',
      `${count} task(s) of queue ${loss.queue} are unknown to Redis (${sample}): ${loss.reason}. They will not run and their outcome will not be recorded; enqueue them again`,
    );
    this.taskIds = taskIds;
    this.count = count;
  }
}
