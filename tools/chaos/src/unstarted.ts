import type { StatusRecord } from '@taskq/recorder';

/**
 * Fetches no worker acted on: the recorded InProgress of a (task, attempt,
 * sub-worker) for which that sub-worker never logged a line (START, or DEAD
 * or REJECT for a task it does not run), although its process lived on. Such a task sits in a live consumer's processing list:
 * the janitor leaves it alone (the consumer heartbeats) and nobody runs it
 * until that process ends. A worker killed or stopped within `graceMs` of the
 * fetch may legitimately not have started it.
 */
export interface UnstartedReport {
  readonly count: number;
  /**
   * Fetches whose reply was lost (a Redis restart) and that the worker's pool
   * returned to the queue itself (reconcile: the next record is Queued with a
   * "reply was lost" reason). Expected after a restart; not a failure (the
   * hold-time check still bounds how long they took).
   */
  readonly reconciled: number;
  /** Up to 5 of them: task, attempt, sub-worker, and what became of the task. */
  readonly examples: readonly string[];
}

/** The pid in a sub-worker name `<prefix>-<pid>-<n>`, or undefined. */
export function pidOfWorker(worker: string): number | undefined {
  const m = /-(\d+)-\d+$/.exec(worker);
  return m ? Number(m[1]) : undefined;
}

/** Finds unstarted fetches among the InProgress records the monitor delivered. Pure. */
export function findUnstartedFetches(
  history: ReadonlyMap<string, readonly StatusRecord[]>,
  handled: (taskId: string, attempt: number, worker: string) => boolean,
  /** When the fleet killed or stopped the process (ms since the epoch); undefined while it ran. */
  endedAt: (pid: number) => number | undefined,
  graceMs: number,
): UnstartedReport {
  let count = 0;
  let reconciled = 0;
  const examples: string[] = [];
  for (const [id, records] of history) {
    records.forEach((r, i) => {
      if (r.status !== 'InProgress' || r.worker === undefined) return;
      if (handled(id, r.attempt, r.worker)) return;
      const pid = pidOfWorker(r.worker);
      const ended = pid === undefined ? undefined : endedAt(pid);
      if (ended !== undefined && ended - r.at < graceMs) return;
      const after = records[i + 1];
      if (after?.status === 'Queued' && /reply was lost/.test(after.reason ?? '')) {
        reconciled++;
        return;
      }
      count++;
      if (examples.length < 5) {
        const next = records[i + 1];
        const after = next ? `${next.status} ${((next.at - r.at) / 1000).toFixed(1)} s later${next.reason ? ` (${next.reason})` : ''}` : 'nothing after';
        examples.push(`${id} attempt ${r.attempt} on ${r.worker}: ${after}`);
      }
    });
  }
  return { count, reconciled, examples };
}
