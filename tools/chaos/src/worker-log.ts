/**
 * What the chaos run reads from a worker's stdout (LOG_FORMAT=json, one pino
 * object per line): the task lines, whose `msg` starts with a verb and the
 * task id (`START t0042`, `DONE t0042 (0.01 s)`, `FAILED …`, `DEAD t0042: …`), with
 * `taskId`, `attempt` and `worker` bound by the task's logger.
 */
export interface TaskLogEvent {
  /** START, or the outcome verb: DONE, RETRY, DEAD, FAILED, REJECT, CANCELLED, ABORTED, … */
  readonly verb: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly worker: string;
  /** A START of a task handed off to its pool (`handOff: true` on the line; --hand-off). */
  readonly handOff?: boolean;
}

const VERB = /^([A-Z]+) /;

/** The task event of one stdout line, or undefined for any other line. */
export function parseWorkerLine(line: string): TaskLogEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const msg = o['msg'];
  const taskId = o['taskId'];
  if (typeof msg !== 'string' || typeof taskId !== 'string') return undefined;
  const m = VERB.exec(msg);
  if (!m) return undefined;
  // `START t1`, `DONE t1 (0.01 s)`, `DEAD t1: reason`; not a line about another task
  const rest = msg.slice(m[0].length);
  if (rest !== taskId && !rest.startsWith(`${taskId} `) && !rest.startsWith(`${taskId}:`)) return undefined;
  return {
    verb: m[1],
    taskId,
    attempt: typeof o['attempt'] === 'number' ? o['attempt'] : 0,
    worker: typeof o['worker'] === 'string' ? o['worker'] : '',
    ...(o['handOff'] === true ? { handOff: true } : {}),
  };
}

/**
 * Counts executions across every worker process, killed ones included. An
 * execution is a START line; it is interrupted when no outcome line for the
 * same task, attempt and sub-worker followed (its process was killed, or its
 * outcome was never logged).
 */
export class ExecutionTally {
  private startCount = 0;
  private handOffCount = 0;
  private readonly open = new Set<string>();
  private readonly handledKeys = new Set<string>();
  private readonly perTask = new Map<string, number>();
  private readonly done = new Set<string>();
  private readonly doneCount = new Map<string, number>();

  add(event: TaskLogEvent): void {
    const key = `${event.taskId}\u0000${event.attempt}\u0000${event.worker}`;
    this.handledKeys.add(key);
    if (event.verb === 'START') {
      this.startCount++;
      if (event.handOff === true) this.handOffCount++;
      this.perTask.set(event.taskId, (this.perTask.get(event.taskId) ?? 0) + 1);
      this.open.add(key);
    } else {
      this.open.delete(key);
      if (event.verb === 'DONE') {
        this.done.add(event.taskId);
        this.doneCount.set(event.taskId, (this.doneCount.get(event.taskId) ?? 0) + 1);
      }
    }
  }

  /** START lines of tasks handed off to their pool (--hand-off). */
  get handOffStarts(): number {
    return this.handOffCount;
  }

  /** START lines seen. */
  get starts(): number {
    return this.startCount;
  }

  /** Executions with a START and no outcome line. */
  get interrupted(): number {
    return this.open.size;
  }

  /** START lines of one task. */
  startsOf(taskId: string): number {
    return this.perTask.get(taskId) ?? 0;
  }

  /** Whether `worker` logged any line (START, DEAD, REJECT, …) for this attempt of the task. */
  handled(taskId: string, attempt: number, worker: string): boolean {
    return this.handledKeys.has(`${taskId}\u0000${attempt}\u0000${worker}`);
  }

  /** Ids of tasks with a DONE line. */
  succeeded(): ReadonlySet<string> {
    return this.done;
  }

  /** DONE lines per task id (a worker logs DONE only once Redis accepted the ack). */
  perTaskDones(): ReadonlyMap<string, number> {
    return this.doneCount;
  }

  /** START lines per task id. */
  perTaskStarts(): ReadonlyMap<string, number> {
    return this.perTask;
  }
}
