import type { StatusRecord } from '@taskq/recorder';
import type { FlowDesign, PlannedFlow } from './flow-plan';

/** The janitor's reason when a task's workers died under it too often (as in checks.ts). */
const DIED_UNDER = /its worker died while running it \d+ times/;
const ENDED = new Set(['FlowDone', 'FlowFailed', 'FlowCancelled']);

/** A flow as `flows.get` read it once the workers stopped (only what the checks use). */
export interface ObservedFlow {
  readonly status: string;
  /** Redis server time the flow ended, ms. */
  readonly endedAt?: number;
  readonly steps: readonly { readonly name: string; readonly status: string; readonly result?: unknown }[];
}

/** Everything the flow checks look at, gathered after the workers have stopped. */
export interface FlowCheckInput {
  readonly flows: readonly PlannedFlow[];
  /** Per flow id; undefined: no such flow in Redis. */
  readonly states: ReadonlyMap<string, ObservedFlow | undefined>;
  /** The status record of each step's task in its queue (Redis time `at`); undefined: no task. */
  readonly records: ReadonlyMap<string, Pick<StatusRecord, 'status' | 'at' | 'reason'> | undefined>;
  /** Each step task's result in its queue's results hash (parsed JSON); undefined: none stored. */
  readonly results: ReadonlyMap<string, unknown>;
  /** Every status record the monitors delivered per task id, oldest first. */
  readonly history: ReadonlyMap<string, readonly Pick<StatusRecord, 'status' | 'at' | 'seq'>[]>;
  /** START lines per task id (every worker, killed ones included). */
  readonly starts: ReadonlyMap<string, number>;
  /** DONE lines per task id: a DONE line is logged only once Redis accepted the ack. */
  readonly doneLines: ReadonlyMap<string, number>;
}

export type FlowCheck = 'notEnded' | 'unexpected' | 'startedAfterEnd' | 'doneTwice' | 'incompleteResults' | 'failedByKills';

/** The verdict on a run's flows. */
export interface FlowReport {
  readonly flows: number;
  readonly steps: number;
  /** Flows per design. */
  readonly byDesign: Readonly<Partial<Record<FlowDesign, number>>>;
  /** Flows per final (or last) status. */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Flows not in a final state (or not in Redis at all). */
  readonly notEnded: number;
  /** Flows that ended otherwise than their design says (flow status, a step's status, a task where none may be). */
  readonly unexpected: number;
  /** Steps fetched or recorded after their flow ended, or run though their flow never released them. */
  readonly startedAfterEnd: number;
  /** Step tasks completed Done more than once (DONE lines, or Done records the monitors delivered). */
  readonly doneTwice: number;
  /** Done steps whose result is missing, differs from the queue's, or whose sum misses an input. */
  readonly incompleteResults: number;
  /**
   * Flows that failed because a step planned to succeed ended Dead by the
   * janitor's recovery limit (its workers killed under it too often, no DONE
   * line): by design, as for tasks (see checks.ts); their outcome and results
   * are not judged, the other checks are. Not a failure.
   */
  readonly failedByKills: number;
  readonly examples: Readonly<Record<FlowCheck, readonly string[]>>;
}

const EXAMPLES = 5;

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Runs the flow checks. Pure: no I/O. */
export function checkFlows(input: FlowCheckInput): FlowReport {
  const examples: Record<FlowCheck, string[]> = { notEnded: [], unexpected: [], startedAfterEnd: [], doneTwice: [], incompleteResults: [], failedByKills: [] };
  const counts: Record<FlowCheck, number> = { notEnded: 0, unexpected: 0, startedAfterEnd: 0, doneTwice: 0, incompleteResults: 0, failedByKills: 0 };
  const note = (check: FlowCheck, text: string): void => {
    counts[check]++;
    if (examples[check].length < EXAMPLES) examples[check].push(text);
  };
  const byDesign: Partial<Record<FlowDesign, number>> = {};
  const byStatus: Record<string, number> = {};
  let steps = 0;

  for (const flow of input.flows) {
    byDesign[flow.design] = (byDesign[flow.design] ?? 0) + 1;
    steps += flow.steps.length;
    const state = input.states.get(flow.id);
    const status = state?.status ?? 'none';
    byStatus[status] = (byStatus[status] ?? 0) + 1;

    // counted per step whatever the flow's state: a step completed twice, or run after its flow ended
    for (const step of flow.steps) {
      const seen = input.history.get(step.taskId) ?? [];
      const doneSeqs = new Set(seen.filter((r) => r.status === 'Done').map((r) => r.seq));
      const lines = input.doneLines.get(step.taskId) ?? 0;
      if (lines > 1 || doneSeqs.size > 1) note('doneTwice', `${step.taskId}: ${lines} DONE lines, ${doneSeqs.size} Done records seen`);
    }
    if (state === undefined || !ENDED.has(state.status)) {
      const open = state?.steps.filter((s) => s.status === 'Waiting' || s.status === 'Released').map((s) => `${s.name} ${s.status}`) ?? [];
      note('notEnded', `${flow.id}: ${state === undefined ? 'no flow in Redis' : `${state.status}${open.length ? ` (${open.join(', ')})` : ''}`}`);
      continue;
    }
    const endedAt = state.endedAt ?? -Infinity;
    const stepState = new Map(state.steps.map((s) => [s.name, s]));

    for (const step of flow.steps) {
      const rec = input.records.get(step.taskId);
      const starts = input.starts.get(step.taskId) ?? 0;
      const fetches = (input.history.get(step.taskId) ?? []).filter((r) => r.status === 'InProgress');
      if (step.neverEnqueued) {
        if (starts > 0 || fetches.length > 0) note('startedAfterEnd', `${flow.id} ${step.name}: never released by its flow, yet ${starts} START lines, ${fetches.length} InProgress records`);
        continue;
      }
      const late = fetches.find((r) => r.at > endedAt);
      if (late !== undefined) note('startedAfterEnd', `${flow.id} ${step.name}: InProgress at ${late.at}, ${late.at - endedAt} ms after the flow ended (${state.status})`);
      else if (rec !== undefined && rec.at > endedAt) note('startedAfterEnd', `${flow.id} ${step.name}: task ${rec.status} at ${rec.at}, ${rec.at - endedAt} ms after the flow ended (${state.status})`);
    }

    // a step planned to succeed that ended Dead because its workers were killed under it too often: the flow's failure is by design
    const killed = flow.steps.find((s) => {
      const rec = input.records.get(s.taskId);
      return !s.failsAlways && rec?.status === 'Dead' && DIED_UNDER.test(rec.reason ?? '') && (input.doneLines.get(s.taskId) ?? 0) === 0;
    });
    if (killed !== undefined) {
      note('failedByKills', `${flow.id}: step ${killed.name} Dead after its workers died; flow ${state.status}`);
      continue;
    }

    const wrong: string[] = [];
    if (state.status !== flow.expectedStatus) wrong.push(`flow ${state.status}, expected ${flow.expectedStatus}`);
    for (const step of flow.steps) {
      const s = stepState.get(step.name);
      const rec = input.records.get(step.taskId);
      if (s === undefined) {
        wrong.push(`${step.name} missing`);
        continue;
      }
      if (!(step.allowed as readonly string[]).includes(s.status)) wrong.push(`${step.name} ${s.status}, expected ${step.allowed.join(' or ')}`);
      if (step.neverEnqueued && rec !== undefined) wrong.push(`${step.name} has a task (${rec.status}) though its flow never released it`);
      if (!step.neverEnqueued && rec !== undefined && rec.status !== s.status) wrong.push(`${step.name} ${s.status} in the flow, ${rec.status} in its queue`);
      if (!step.neverEnqueued && rec === undefined && s.status !== 'Cancelled') wrong.push(`${step.name} ${s.status} in the flow, no task in its queue`);

      if (s.status !== 'Done') continue;
      const result = s.result as { sum?: unknown } | undefined;
      const queued = input.results.get(step.taskId);
      if (result === undefined) note('incompleteResults', `${flow.id} ${step.name}: Done without a result in the flow`);
      else if (result.sum !== step.sum) note('incompleteResults', `${flow.id} ${step.name}: sum ${String(result.sum)}, expected ${step.sum} (an input missing or counted twice)`);
      else if (!sameJson(queued, result)) note('incompleteResults', `${flow.id} ${step.name}: result ${JSON.stringify(result)} in the flow, ${JSON.stringify(queued)} in its queue`);
    }
    if (wrong.length > 0) note('unexpected', `${flow.id} (${flow.design}): ${wrong.join('; ')}`);
  }

  return { flows: input.flows.length, steps, byDesign, byStatus, ...counts, examples };
}

/** What failed among the flow checks, one phrase each (empty: passed). */
export function flowFailures(report: FlowReport): string[] {
  const out: string[] = [];
  if (report.notEnded > 0) out.push(`${report.notEnded} flows not ended`);
  if (report.unexpected > 0) out.push(`${report.unexpected} flows ended unexpectedly`);
  if (report.startedAfterEnd > 0) out.push(`${report.startedAfterEnd} flow steps started after their flow ended`);
  if (report.doneTwice > 0) out.push(`${report.doneTwice} flow steps Done twice`);
  if (report.incompleteResults > 0) out.push(`${report.incompleteResults} flow step results incomplete`);
  return out;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/**
 * `chaos flows: 60 flows (15 chain, …), 235 steps, FlowDone 30, FlowFailed 30; 0 not ended, 0 unexpected,
 * 0 started after end, 0 done twice, 0 incomplete results; 0 failed by kills`
 */
export function flowsLine(report: FlowReport): string {
  const designs = Object.entries(report.byDesign)
    .map(([d, n]) => `${n} ${d}`)
    .join(', ');
  const statuses = Object.entries(report.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s} ${n}`)
    .join(', ');
  return (
    `chaos flows: ${plural(report.flows, 'flow')} (${designs}), ${plural(report.steps, 'step')}, ${statuses}; ` +
    `${report.notEnded} not ended, ${report.unexpected} unexpected, ${report.startedAfterEnd} started after end, ` +
    `${report.doneTwice} done twice, ${report.incompleteResults} incomplete results; ${report.failedByKills} failed by kills`
  );
}

/** One line per check with examples: `  flows notEnded: f001-chain: FlowRunning (c Released); …`. */
export function flowDetailLines(report: FlowReport): string[] {
  return Object.entries(report.examples)
    .filter(([, ids]) => ids.length > 0)
    .map(([check, ids]) => `  flows ${check}: ${ids.join('; ')}${ids.length < report[check as FlowCheck] ? '; …' : ''}`);
}
