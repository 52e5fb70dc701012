import { isFinalStatus, type StatusRecord, type TaskStatus } from '@taskq/recorder';
import type { PlannedTask } from './plan';

/** The janitor's reason when a task's workers died under it too often (libs/queue/lua/recover.lua). */
const DIED_UNDER = /its worker died while running it \d+ times/;

/** Everything the checks look at, gathered after the workers have stopped. */
export interface CheckInput {
  readonly plan: readonly PlannedTask[];
  /** Recorded status per task id (the status hash); undefined: no record. */
  readonly recorded: ReadonlyMap<string, Pick<StatusRecord, 'status' | 'attempt' | 'reason'> | undefined>;
  /** Ids still in a processing list, the ready list or the delayed set -> where. */
  readonly stuck: ReadonlyMap<string, string>;
  /** Statuses the monitor delivered per task, oldest first. */
  readonly history: ReadonlyMap<string, readonly TaskStatus[]>;
  /** START lines per task id, from every worker process, killed ones included. */
  readonly starts: ReadonlyMap<string, number>;
  /** Ids of tasks for which some worker logged a DONE line. */
  readonly succeeded: ReadonlySet<string>;
}

/** The verdict of one chaos run. */
export interface CheckReport {
  readonly tasks: number;
  /** No record, not final, or not the expected final status. */
  readonly lost: number;
  /** Ids left in a processing list, the ready list or the delayed set. */
  readonly stuck: number;
  /** A final status followed by another one, or the monitor's final status differs from the recorded one. */
  readonly flipped: number;
  /** Tasks recorded final in Redis that the monitor never saw with a final status. */
  readonly monitorMissed: number;
  /**
   * Tasks planned to end Done that ended Dead because their workers were
   * killed under them too often (the janitor's recovery limit, reason "its
   * worker died while running it N times") and never ran to success. That is
   * the design, so it is not a failure; it is reported so that it stays visible.
   */
  readonly deadByKills: number;
  /** Tasks with the expected final status but fewer attempts recorded than they must have taken. */
  readonly attemptAnomalies: number;
  /**
   * Executions that at-least-once delivery repeated: START lines minus the
   * attempts the plan needs, over the tasks that ended as expected (so a
   * task stuck before its last attempt does not make the count negative).
   */
  readonly repeated: number;
  /** START lines of all planned tasks. */
  readonly starts: number;
  /** Attempts all planned tasks need when nothing is interrupted. */
  readonly expectedStarts: number;
  /** Tasks the monitor saw with a final status. */
  readonly monitorSawFinal: number;
  /** Recorded final statuses (and `none` / non-final ones) with their counts. */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Up to EXAMPLES ids per check (and per dead-by-kills task), each with what was wrong. */
  readonly examples: Readonly<Record<'lost' | 'stuck' | 'flipped' | 'monitorMissed' | 'attemptAnomalies' | 'deadByKills', readonly string[]>>;
}

/** How many offending tasks a report names per check. */
export const EXAMPLES = 5;

/** A flip seen by the monitor: a status after the first final one that differs from it. */
function monitorFlip(statuses: readonly TaskStatus[]): string | undefined {
  const i = statuses.findIndex(isFinalStatus);
  if (i < 0) return undefined;
  const first = statuses[i];
  const later = statuses.slice(i + 1).find((s) => s !== first);
  return later === undefined ? undefined : `${first} then ${later}`;
}

/** Runs every check over the gathered state. Pure: no I/O. */
export function checkRun(input: CheckInput): CheckReport {
  const examples = {
    lost: [] as string[],
    stuck: [] as string[],
    flipped: [] as string[],
    monitorMissed: [] as string[],
    attemptAnomalies: [] as string[],
    deadByKills: [] as string[],
  };
  const counts = { lost: 0, flipped: 0, monitorMissed: 0, attemptAnomalies: 0, deadByKills: 0 };
  const note = (check: keyof typeof counts, text: string): void => {
    counts[check]++;
    if (examples[check].length < EXAMPLES) examples[check].push(text);
  };
  const byStatus: Record<string, number> = {};
  let expectedStarts = 0;
  let starts = 0;
  let repeated = 0;
  let monitorSawFinal = 0;

  for (const task of input.plan) {
    const taskStarts = input.starts.get(task.id) ?? 0;
    expectedStarts += task.expectedAttempts;
    starts += taskStarts;
    const rec = input.recorded.get(task.id);
    const status = rec?.status ?? 'none';
    byStatus[status] = (byStatus[status] ?? 0) + 1;

    if (rec === undefined) note('lost', `${task.id}: no status record`);
    else if (!isFinalStatus(rec.status)) note('lost', `${task.id}: still ${rec.status}`);
    else if (rec.status === 'Dead' && task.expectedStatus === 'Done' && DIED_UNDER.test(rec.reason ?? '') && !input.succeeded.has(task.id)) {
      note('deadByKills', `${task.id}: Dead after its workers died (${task.kind}, ${taskStarts} START lines, none DONE)`);
    } else if (rec.status !== task.expectedStatus) note('lost', `${task.id}: ${rec.status}, expected ${task.expectedStatus} (${task.kind})`);
    else {
      repeated += taskStarts - task.expectedAttempts;
      if (rec.attempt < task.expectedAttempts) {
        note('attemptAnomalies', `${task.id}: ${rec.status} at attempt ${rec.attempt}, a ${task.kind} task needs ${task.expectedAttempts}`);
      }
    }

    const seen = input.history.get(task.id) ?? [];
    const firstFinal = seen.find(isFinalStatus);
    const flip = monitorFlip(seen);
    if (flip !== undefined) note('flipped', `${task.id}: monitor saw ${flip}`);
    else if (firstFinal !== undefined && rec !== undefined && rec.status !== firstFinal) {
      note('flipped', `${task.id}: monitor saw ${firstFinal}, recorded ${rec.status}`);
    }
    if (firstFinal !== undefined) monitorSawFinal++;
    else if (rec !== undefined && isFinalStatus(rec.status)) {
      note('monitorMissed', `${task.id}: recorded ${rec.status}, monitor saw ${seen.length ? seen.join(' > ') : 'nothing'}`);
    }
  }

  for (const [id, where] of input.stuck) {
    if (examples.stuck.length < EXAMPLES) examples.stuck.push(`${id}: in ${where}`);
  }

  return {
    tasks: input.plan.length,
    lost: counts.lost,
    stuck: input.stuck.size,
    flipped: counts.flipped,
    monitorMissed: counts.monitorMissed,
    attemptAnomalies: counts.attemptAnomalies,
    deadByKills: counts.deadByKills,
    repeated,
    starts,
    expectedStarts,
    monitorSawFinal,
    byStatus,
    examples,
  };
}

/** True when no check on the tasks failed. */
export function passed(report: CheckReport): boolean {
  return failures(report).length === 0;
}

/** Run-level findings beside the task checks. */
export interface RunFindings {
  /** Attempts that held a task InProgress longer than `holdLimitMs`. */
  readonly slowHolds?: number;
  readonly holdLimitMs?: number;
  /** Fetches a live worker never handled (see unstarted.ts). */
  readonly unstartedFetches?: number;
}

/** What failed, one phrase each (empty: the run passed): the task checks and the run's findings. */
export function failures(report: CheckReport, findings: RunFindings = {}): string[] {
  const { slowHolds = 0, holdLimitMs = 0, unstartedFetches = 0 } = findings;
  const out: string[] = [];
  if (report.lost > 0) out.push(`${report.lost} lost`);
  if (report.stuck > 0) out.push(`${report.stuck} stuck`);
  if (report.flipped > 0) out.push(`${report.flipped} flipped`);
  if (report.monitorMissed > 0) out.push(`${report.monitorMissed} missed by the monitor`);
  if (report.attemptAnomalies > 0) out.push(`${report.attemptAnomalies} attempt anomalies`);
  if (unstartedFetches > 0) out.push(`${unstartedFetches} fetched but never handled by a live worker`);
  if (slowHolds > 0) out.push(`${slowHolds} held InProgress longer than ${(holdLimitMs / 1000).toFixed(1)} s`);
  return out;
}
