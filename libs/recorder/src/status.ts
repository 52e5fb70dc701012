/**
 * The status model. Every transition a task makes between Redis structures
 * writes one of these, in the same Lua script as the move itself.
 *
 * ```text
 *   enqueue ──► Queued ──fetch──► InProgress ──ack──────► Done
 *                 ▲                   │
 *                 │                   ├──reject──────────► Failed
 *                 └──── released / recovered by janitor ◄─┘ (worker stopped or died)
 * ```
 * Done and Failed are final: a recorded final status never changes.
 */
export const TaskStatus = {
  Queued: 'Queued',
  InProgress: 'InProgress',
  Done: 'Done',
  Failed: 'Failed',
} as const;

export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export const ALL_STATUSES: readonly TaskStatus[] = Object.values(TaskStatus);

export const FINAL_STATUSES: readonly TaskStatus[] = [TaskStatus.Done, TaskStatus.Failed];

export function isFinalStatus(status: TaskStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (ALL_STATUSES as readonly string[]).includes(value);
}
