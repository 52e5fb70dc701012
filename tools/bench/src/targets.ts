import { fleetTargetRatio, idleFleetScriptCalls } from './fleet';
import type { ScenarioName } from './names';
import { ratiosOf, type BenchResult } from './results';

/** A target of the issue: a ratio measured in one run, at least or at most a limit. */
export interface Target {
  readonly bench: ScenarioName;
  readonly label: string;
  readonly kind: 'atLeast' | 'atMost';
  readonly limit: number;
  /** What is compared: the scenario's headline (tasks/s, p99, bytes per task), or Redis's CPU µs per task. Default: the headline. */
  readonly metric?: 'redisUsPerTask';
  /** The figure judged, when it is not taskq's headline ratio to BullMQ (fleet: at one K; idle-fleet: an absolute count). */
  readonly measure?: (results: readonly BenchResult[]) => number | undefined;
}

export const TARGETS: readonly Target[] = [
  { bench: 'drain', label: 'drain >= 5 x BullMQ', kind: 'atLeast', limit: 5 },
  { bench: 'drain', label: 'drain Redis CPU per task <= 0.2 x BullMQ', kind: 'atMost', limit: 0.2, metric: 'redisUsPerTask' },
  { bench: 'enqueue', label: 'enqueue >= 6 x BullMQ', kind: 'atLeast', limit: 6 },
  { bench: 'latency', label: 'latency p99 <= 0.5 x BullMQ p99', kind: 'atMost', limit: 0.5 },
  { bench: 'memory', label: 'memory per queued task <= 0.5 x BullMQ', kind: 'atMost', limit: 0.5 },
  { bench: 'scale', label: 'drain at the largest N within 20% of the next smaller N', kind: 'atLeast', limit: 0.8 },
  // issue 18; judged in the same-per-process mode (fleet.ts FLEET_TARGET_MODE)
  { bench: 'fleet', label: 'fleet drain at K=2 >= 5 x BullMQ', kind: 'atLeast', limit: 5, measure: (results) => fleetTargetRatio(results, 2) },
  { bench: 'fleet', label: 'fleet drain at K=4 >= 5 x BullMQ', kind: 'atLeast', limit: 5, measure: (results) => fleetTargetRatio(results, 4) },
  { bench: 'idle-fleet', label: 'idle fleet: taskq <= 1.5 script calls per task', kind: 'atMost', limit: 1.5, measure: idleFleetScriptCalls },
];

/** A target's outcome; `pass` undefined when the ratio was not measured (scenario or peer not run, or failed). */
export interface Verdict {
  readonly target: Target;
  readonly ratio: number | undefined;
  readonly pass: boolean | undefined;
}

/** The ratio a target judges: taskq against BullMQ (its headline, or its Redis µs per task), or (scale) taskq's largest size against the next smaller. */
export function targetRatio(target: Target, results: readonly BenchResult[]): number | undefined {
  if (target.measure) return target.measure(results);
  const taskq = results.filter((r) => r.bench === target.bench && r.system === 'taskq');
  if (target.bench === 'scale') {
    const largest = taskq.sort((a, b) => b.n - a.n)[0];
    return largest ? ratiosOf(largest, results).ratioVsSmaller : undefined;
  }
  const first = taskq[0];
  if (!first) return undefined;
  const ratios = ratiosOf(first, results);
  return target.metric === 'redisUsPerTask' ? ratios.redisUsRatioVsBullmq : ratios.ratioVsBullmq;
}

export function evaluateTargets(results: readonly BenchResult[], targets: readonly Target[] = TARGETS): Verdict[] {
  return targets.map((target) => {
    const value = targetRatio(target, results);
    const pass = value === undefined ? undefined : target.kind === 'atLeast' ? value >= target.limit : value <= target.limit;
    return { target, ratio: value, pass };
  });
}

/** `PASS drain >= 5 x BullMQ: measured 6.12`, `FAIL …`, or `n/a  … (not measured)`; smoke runs say `not judged`. */
export function verdictLine(verdict: Verdict, smoke: boolean): string {
  const { target, ratio, pass } = verdict;
  if (ratio === undefined || pass === undefined) return `n/a  ${target.label} (not measured in this run)`;
  const measured = `measured ${ratio.toFixed(2)}`;
  if (smoke) return `-    ${target.label}: ${measured} (smoke run: not judged)`;
  return `${pass ? 'PASS' : 'FAIL'} ${target.label}: ${measured}`;
}
