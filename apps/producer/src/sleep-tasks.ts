import type { TaskInput } from '@taskq/queue';

/** What the demo tasks look like. */
export interface SleepTaskOptions {
  /** How many: ids `<idPrefix>1` .. `<idPrefix><count>`. */
  readonly count: number;
  readonly idPrefix: string;
  /** Duration range of the tasks, ms. */
  readonly minMs: number;
  readonly maxMs: number;
  /** Share (0..1) of tasks whose first attempts throw (1..maxAttempts of them, so some recover and some end Dead). */
  readonly failRate: number;
  /** Executions allowed per task. */
  readonly maxAttempts: number;
  /** Backoff between attempts, ms (fixed). */
  readonly retryDelayMs: number;
  /** The tasks' priority (0-9); default 5. */
  readonly priority?: number;
}

/** The id of task `n` (1-based) of a run. */
export function taskId(idPrefix: string, n: number): string {
  return `${idPrefix}${n}`;
}

/**
 * The run's "sleep" tasks, one at a time and only when asked for: a run of
 * ten million tasks never has more of them in memory than its consumer keeps.
 */
export function* sleepTasks(o: SleepTaskOptions): Generator<TaskInput> {
  const backoff = { type: 'fixed' as const, delayMs: o.retryDelayMs };
  for (let n = 1; n <= o.count; n++) {
    const ms = o.minMs + Math.floor(Math.random() * (o.maxMs - o.minMs + 1));
    // a failing task throws on its first 1..maxAttempts attempts: it recovers, or it is Dead
    const failAttempts = Math.random() < o.failRate ? 1 + Math.floor(Math.random() * o.maxAttempts) : 0;
    yield {
      id: taskId(o.idPrefix, n),
      type: 'sleep',
      payload: failAttempts > 0 ? { ms, failAttempts } : { ms },
      maxAttempts: o.maxAttempts,
      backoff,
      ...(o.priority === undefined ? {} : { priority: o.priority }),
    };
  }
}
