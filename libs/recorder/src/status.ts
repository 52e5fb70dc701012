/**
 * The status model. Every transition a task makes between Redis structures
 * writes one of these, in the same Lua script as the move itself.
 *
 * ```text
 *                 ┌──────── delay elapsed ────────┐
 *   enqueue ──► Delayed                            ▼
 *      └──────────────────────────────────────► Queued ──fetch──► InProgress ──ack──► Done
 *                                                 ▲  ▲                │
 *                 released (worker stopping) ─────┘  │                ├─ handler failed, attempts left ──► Retrying ──due──► Queued
 *                 recovered (worker died) ───────────┘                ├─ handler failed, last attempt ───► Dead
 *                                                                     ├─ cannot run (bad payload, no handler) ─► Failed
 *                                                                     └─ cancelled while running ────────► Cancelled
 *   cancel(): Queued | Delayed | Retrying ──► Cancelled;  InProgress ──► (worker aborts) ──► Cancelled
 *   requeueDead(): Dead ──► Queued (an explicit user action, attempts start over)
 * ```
 * Done, Failed, Dead and Cancelled are final: the queue never changes a
 * recorded final status by itself.
 */
export const TaskStatus = {
  Queued: 'Queued',
  Delayed: 'Delayed',
  InProgress: 'InProgress',
  Retrying: 'Retrying',
  Done: 'Done',
  Failed: 'Failed',
  Dead: 'Dead',
  Cancelled: 'Cancelled',
} as const;

export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

export const ALL_STATUSES: readonly TaskStatus[] = Object.values(TaskStatus);

export const FINAL_STATUSES: readonly TaskStatus[] = [TaskStatus.Done, TaskStatus.Failed, TaskStatus.Dead, TaskStatus.Cancelled];

export function isFinalStatus(status: TaskStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (ALL_STATUSES as readonly string[]).includes(value);
}
