import { median, ratio, summarizeLatencies } from './stats';

/**
 * The replicas scenario's pure parts: what it compares, how it splits the
 * batches, how it sums up its runs. It measures what the Queue option
 * `waitForReplicas` (a Redis WAIT after every enqueue, on the connection that
 * wrote) costs a producer, on a master with one replica.
 */

/** The Queue's `waitForReplicas` as the scenario sets it. */
export interface WaitOption {
  readonly replicas: number;
  readonly timeoutMs?: number;
}

/**
 * The two settings compared with the replica up, in the order they run in
 * every repeat: the Queue without the option, then with `{ replicas: 1 }`
 * (the default timeout, 1000 ms). The replica is connected in both: the
 * master streams every write to it either way, only the WAIT differs.
 */
export const REPLICAS_MODES = [
  { name: 'off', label: 'waitForReplicas off', waitForReplicas: undefined },
  { name: 'wait-1', label: '{ replicas: 1 }', waitForReplicas: { replicas: 1 } },
] as const satisfies readonly { name: string; label: string; waitForReplicas: WaitOption | undefined }[];

export type ReplicasMode = (typeof REPLICAS_MODES)[number];
export type ReplicasModeName = ReplicasMode['name'];

/** The mode every other is compared with. */
export const REPLICAS_BASELINE: ReplicasModeName = 'off';

/** With the replica stopped: what a producer pays per enqueue while its replica is down. */
export const REPLICA_DOWN = {
  name: 'replica-down',
  label: 'replica stopped, { replicas: 1, timeoutMs: 50 }',
  waitForReplicas: { replicas: 1, timeoutMs: 50 },
} as const satisfies { name: string; label: string; waitForReplicas: Required<WaitOption> };

/** Tasks per `enqueueMany` call in the batched part. */
export const REPLICAS_BATCH = 100;

/** Untimed single enqueues (and one batch) per mode before the first timed run, so that the bench's own code is compiled for both. */
export const REPLICAS_WARMUP = 200;

/** `[from, to)` of each batch of `size` tasks in `n`, in order; the last one may be smaller. */
export function batchBounds(n: number, size: number = REPLICAS_BATCH): [number, number][] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`tasks must be a whole number >= 0, got ${n}`);
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a whole number >= 1, got ${size}`);
  const out: [number, number][] = [];
  for (let from = 0; from < n; from += size) out.push([from, Math.min(n, from + size)]);
  return out;
}

/** One run of one mode with the replica up. */
export interface ReplicasRun {
  /** ms each single `enqueue` took, awaited one after another, in order. */
  readonly singleMs: readonly number[];
  /** Tasks per second through `enqueueMany` in batches of REPLICAS_BATCH, awaited one after another. */
  readonly batchTasksPerSec: number;
}

/** The figures of one run: the single enqueues' p50 and p99, the batches' rate. */
export interface ReplicasRunFigures {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly batchTasksPerSec: number;
}

export function runFigures(run: ReplicasRun): ReplicasRunFigures {
  const s = summarizeLatencies(run.singleMs);
  return { p50Ms: s.p50Ms, p99Ms: s.p99Ms, batchTasksPerSec: run.batchTasksPerSec };
}

/** A mode's figures over `repeat` runs: the median of each figure on its own, and every run's, in run order. */
export interface ReplicasSummary extends ReplicasRunFigures {
  readonly runsP50Ms: readonly number[];
  readonly runsP99Ms: readonly number[];
  readonly runsBatchTasksPerSec: readonly number[];
}

export function summarizeRuns(runs: readonly ReplicasRunFigures[]): ReplicasSummary {
  if (runs.length === 0) throw new RangeError('no runs to summarize');
  const runsP50Ms = runs.map((r) => r.p50Ms);
  const runsP99Ms = runs.map((r) => r.p99Ms);
  const runsBatchTasksPerSec = runs.map((r) => r.batchTasksPerSec);
  return {
    p50Ms: median(runsP50Ms),
    p99Ms: median(runsP99Ms),
    batchTasksPerSec: median(runsBatchTasksPerSec),
    runsP50Ms,
    runsP99Ms,
    runsBatchTasksPerSec,
  };
}

/** A mode against the baseline (off): each figure's ratio, and what the WAIT adds to a single enqueue, ms. */
export interface ReplicasRatios {
  /** p50 with / p50 without: above 1 is slower. */
  readonly p50VsOff?: number;
  readonly p99VsOff?: number;
  /** tasks/s with / tasks/s without: below 1 is slower. */
  readonly batchVsOff?: number;
  /** p50 with − p50 without, ms: what one WAIT adds to one enqueue. */
  readonly p50AddedMs?: number;
}

export function replicasRatios(mode: ReplicasRunFigures, off: ReplicasRunFigures | undefined): ReplicasRatios {
  if (off === undefined) return {};
  return {
    p50VsOff: ratio(mode.p50Ms, off.p50Ms),
    p99VsOff: ratio(mode.p99Ms, off.p99Ms),
    batchVsOff: ratio(mode.batchTasksPerSec, off.batchTasksPerSec),
    p50AddedMs: mode.p50Ms - off.p50Ms,
  };
}

/** How one enqueue ended with the replica stopped: rejected with NotReplicatedError (and how many replicas it said confirmed), or anything else. */
export type DownOutcome =
  | { readonly ms: number; readonly notReplicated: true; readonly confirmed: number }
  | { readonly ms: number; readonly notReplicated: false; readonly error?: string };

/** The replica-down figures: ms until each enqueue settled, and the check that every one was refused. */
export interface DownSummary {
  readonly calls: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly minMs: number;
  readonly maxMs: number;
}

/**
 * Sums up the enqueues made while the replica was stopped. Throws, naming the
 * first offender, unless every one rejected with NotReplicatedError saying 0
 * replicas confirmed: one that resolved, or failed otherwise, would mean the
 * WAIT was not made or not heeded.
 */
export function summarizeDown(outcomes: readonly DownOutcome[]): DownSummary {
  if (outcomes.length === 0) throw new RangeError('no enqueues to summarize');
  outcomes.forEach((o, i) => {
    if (!o.notReplicated) {
      throw new Error(`enqueue ${i + 1} of ${outcomes.length} with the replica stopped ${o.error === undefined ? 'resolved' : `failed otherwise: ${o.error}`} instead of rejecting with NotReplicatedError`);
    }
    if (o.confirmed !== 0) throw new Error(`enqueue ${i + 1} of ${outcomes.length} with the replica stopped: NotReplicatedError says ${o.confirmed} replica(s) confirmed, expected 0`);
  });
  const s = summarizeLatencies(outcomes.map((o) => o.ms));
  return { calls: outcomes.length, p50Ms: s.p50Ms, p99Ms: s.p99Ms, minMs: Math.min(...outcomes.map((o) => o.ms)), maxMs: s.maxMs };
}
