import type { TaskStatus } from '@taskq/recorder';

/**
 * What `Queue.cancel()` did.
 * - `cancelled`: the task is Cancelled (it had not started, or its worker aborted it).
 * - `final`: it had already finished (`status` says how); nothing changed.
 * - `running`: it is InProgress and the request is pending: its worker did
 *   not confirm within the wait (it may still finish Done).
 * - `not-found`: no task with this id is recorded.
 */
export interface CancelResult {
  readonly id: string;
  readonly outcome: 'cancelled' | 'final' | 'running' | 'not-found';
  /** The task's recorded status after the call; undefined when not found. */
  readonly status: TaskStatus | undefined;
  /** True when the cancel took effect (`outcome === 'cancelled'`). */
  readonly cancelled: boolean;
}
