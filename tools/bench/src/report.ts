import { BASELINE_LAYOUT, CLUSTER_LAYOUTS } from './cluster';
import { fleetRows, idleFleetRows } from './report-fleet';
import type { SystemName } from './names';
import type { BenchPlan } from './plan';
import { REPLICA_DOWN, REPLICAS_BASELINE, REPLICAS_BATCH, REPLICAS_MODES } from './replicas';
import { WARMUP_MS } from './latency-runs';
import { jsonRecord, ratiosOf, type BenchResult, type NotApplicable, type RedisCostFields, type ReplicaDownResult, type ReplicasResult, type RunError } from './results';
import { ratio } from './stats';
import { WEIGHTED_QUEUES } from './weighted';

const int = (v: number): string => Math.round(v).toLocaleString('en-US');
const ms = (v: number): string => v.toFixed(2);
const times = (v: number | undefined): string => (v === undefined ? '' : `${v.toFixed(2)}x`);

/** One row of the table: a scenario's metric for every system, then taskq's ratios. */
export interface Row {
  readonly scenario: string;
  readonly metric: string;
  readonly cells: readonly string[];
  readonly vsBullmq: string;
  readonly vsBee: string;
}

export type Pick = (r: BenchResult) => number | undefined;

export function row(
  scenario: string,
  metric: string,
  systems: readonly SystemName[],
  matches: (r: BenchResult) => boolean,
  pick: Pick,
  format: (v: number) => string,
  results: readonly BenchResult[],
  errors: readonly RunError[],
  notApplicable: readonly NotApplicable[] = [],
): Row {
  const value = (system: SystemName): number | undefined => {
    const r = results.find((x) => matches(x) && x.system === system);
    return r ? pick(r) : undefined;
  };
  const text = (system: SystemName): string | undefined => {
    const v = value(system);
    return v === undefined ? undefined : format(v);
  };
  return {
    scenario,
    metric,
    cells: cellsOf(scenario, systems, text, errors, notApplicable),
    vsBullmq: times(ratio(value('taskq'), value('bullmq'))),
    vsBee: times(ratio(value('taskq'), value('bee-queue'))),
  };
}

/** A row's cells: the text of each system's value, else ERROR (the system failed the scenario), n/a (it does not run it) or -. */
export function cellsOf(
  scenario: string,
  systems: readonly SystemName[],
  text: (system: SystemName) => string | undefined,
  errors: readonly RunError[],
  notApplicable: readonly NotApplicable[],
): string[] {
  const failed = (system: SystemName): boolean => errors.some((e) => e.system === system && scenario.startsWith(e.bench));
  const na = (system: SystemName): boolean => notApplicable.some((x) => x.system === system && x.bench === scenario);
  return systems.map((s) => text(s) ?? (failed(s) ? 'ERROR' : na(s) ? 'n/a' : '-'));
}

/**
 * The results as a text table: one row per scenario metric, one column per
 * system, then taskq's ratios; `n/a` where a system does not run a scenario.
 */
export function formatTable(
  plan: BenchPlan,
  results: readonly BenchResult[],
  errors: readonly RunError[],
  notApplicable: readonly NotApplicable[] = [],
): string[] {
  const sys = plan.systems;
  const rows: Row[] = [];
  const of = (bench: BenchResult['bench']) => (r: BenchResult) => r.bench === bench;
  const tput: Pick = (r) => ('tasksPerSec' in r ? r.tasksPerSec : undefined);
  for (const scenario of plan.scenarios) {
    if (scenario === 'enqueue' || scenario === 'drain') {
      rows.push(row(scenario, `tasks/s (n=${int(plan.n)}, median of ${plan.repeat})`, sys, of(scenario), tput, int, results, errors));
      rows.push(...redisCostRows(plan, scenario, results, errors));
    } else if (scenario === 'weighted') {
      const metric = `tasks/s (n=${int(plan.weightedN)}, 3 queues ${WEIGHTED_QUEUES.map((q) => q.weight).join(':')}, priorities 0-9, median of ${plan.repeat})`;
      rows.push(row('weighted', metric, sys, of('weighted'), tput, int, results, errors, notApplicable));
    } else if (scenario === 'cluster') {
      rows.push(...clusterRows(plan, results, errors, notApplicable));
    } else if (scenario === 'replicas') {
      rows.push(...replicasRows(plan, results, errors, notApplicable));
    } else if (scenario === 'fleet') {
      rows.push(...fleetRows(plan, results, errors));
    } else if (scenario === 'idle-fleet') {
      rows.push(...idleFleetRows(plan, results, errors));
    } else if (scenario === 'latency') {
      const label = `${plan.latencyRate}/s for ${plan.latencyMs / 1000} s, median of ${plan.repeat}`;
      const lat = (key: 'p50Ms' | 'p99Ms'): Pick => (r) => (r.bench === 'latency' ? r[key] : undefined);
      rows.push(row('latency', `p50 ms (${label})`, sys, of('latency'), lat('p50Ms'), ms, results, errors));
      rows.push(row('latency', `p99 ms (${label})`, sys, of('latency'), lat('p99Ms'), ms, results, errors));
      const warmup: Pick = (r) => (r.bench === 'latency' ? r.warmup.p99Ms : undefined);
      rows.push(row('latency', `warm-up p99 ms (a fresh worker's first ${WARMUP_MS / 1000} s, not counted above)`, sys, of('latency'), warmup, ms, results, errors));
      rows.push(...redisCostRows(plan, 'latency', results, errors));
    } else if (scenario === 'memory') {
      const bytes: Pick = (r) => (r.bench === 'memory' ? r.bytesPerTask : undefined);
      rows.push(row('memory', `bytes/queued task (n=${int(plan.memoryN)})`, sys, of('memory'), bytes, int, results, errors));
    } else {
      for (const n of plan.scaleSizes) {
        const at = (r: BenchResult) => r.bench === 'scale' && r.n === n;
        const found = results.find((r) => at(r) && r.system === 'taskq');
        const step = found ? ratiosOf(found, results).ratioVsSmaller : undefined;
        const metric = `drain tasks/s, median of ${plan.repeat}` + (step === undefined ? '' : ` (${step.toFixed(2)} of the smaller n)`);
        rows.push(row(`scale n=${int(n)}`, metric, sys, at, tput, int, results, errors));
      }
    }
  }
  const header: Row = { scenario: 'scenario', metric: 'metric', cells: [...sys], vsBullmq: 'taskq/BullMQ', vsBee: 'taskq/bee-queue' };
  const all = [header, ...rows];
  const width = (get: (r: Row) => string): number => Math.max(...all.map((r) => get(r).length));
  const wScenario = width((r) => r.scenario);
  const wMetric = width((r) => r.metric);
  const wCells = sys.map((_, i) => width((r) => r.cells[i] ?? ''));
  const wBull = width((r) => r.vsBullmq);
  const wBee = width((r) => r.vsBee);
  // A ratio column only when taskq and that peer both ran.
  const showBull = sys.includes('taskq') && sys.includes('bullmq');
  const showBee = sys.includes('taskq') && sys.includes('bee-queue');
  const line = (r: Row): string =>
    [
      r.scenario.padEnd(wScenario),
      r.metric.padEnd(wMetric),
      ...r.cells.map((c, i) => c.padStart(wCells[i] ?? 0)),
      ...(showBull ? [r.vsBullmq.padStart(wBull)] : []),
      ...(showBee ? [r.vsBee.padStart(wBee)] : []),
    ].join('  ').trimEnd();
  const rule = '-'.repeat(line(header).length);
  return [line(header), rule, ...rows.map(line)];
}

/** Redis's figures per task, with as many decimals as a small value needs: 12.3, 4.56, 0.083. */
const perTask = (v: number): string => v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : v >= 1 ? 2 : 3);

/**
 * What the timed part of drain, enqueue or latency cost Redis per task (CPU
 * µs, commands, socket reads, script calls), medians; the drain adds the
 * tasks/s a Redis core could serve at that cost. No rows when no system's
 * result has the figures.
 */
function redisCostRows(plan: BenchPlan, scenario: 'drain' | 'enqueue' | 'latency', results: readonly BenchResult[], errors: readonly RunError[]): Row[] {
  const sys = plan.systems;
  const of = (r: BenchResult): boolean => r.bench === scenario;
  const field = (key: Exclude<keyof RedisCostFields, 'runsRedisUsPerTask'>): Pick => (r) =>
    r.bench === scenario && (r.bench === 'drain' || r.bench === 'enqueue' || r.bench === 'latency') ? r[key] : undefined;
  if (!results.some((r) => of(r) && field('redisUsPerTask')(r) !== undefined)) return [];
  const median = `median of ${plan.repeat}`;
  const rows = [
    row(scenario, `Redis µs/task (CPU, ${median})`, sys, of, field('redisUsPerTask'), perTask, results, errors),
    row(scenario, 'Redis commands/task (scripts\' included)', sys, of, field('redisCommandsPerTask'), perTask, results, errors),
    row(scenario, 'round trips/task (Redis socket reads)', sys, of, field('redisReadsPerTask'), perTask, results, errors),
    row(scenario, 'script calls/task', sys, of, field('redisScriptCallsPerTask'), perTask, results, errors),
  ];
  if (scenario === 'drain') {
    rows.push(row(scenario, 'tasks/s per Redis core (1e6 / Redis µs/task)', sys, of, field('tasksPerSecPerRedisCore'), int, results, errors));
  }
  return rows;
}

/**
 * The cluster scenario's rows: tasks/s per layout (taskq's ratio to BullMQ
 * within the layout), then each layout's rate over the same system's on
 * 1 node with 1 queue, then each layout's CPU per task (redis-server(s) +
 * worker process(es), µs) and the cores kept busy, where measured.
 */
function clusterRows(plan: BenchPlan, results: readonly BenchResult[], errors: readonly RunError[], notApplicable: readonly NotApplicable[]): Row[] {
  const sys = plan.systems;
  const inLayout = (layout: string) => (r: BenchResult) => r.bench === 'cluster' && r.layout === layout;
  const rows: Row[] = [];
  for (const layout of CLUSTER_LAYOUTS) {
    const metric = `tasks/s, ${layout.label} (n=${int(plan.clusterN)}, median of ${plan.repeat})`;
    rows.push(row('cluster', metric, sys, inLayout(layout.name), (r) => ('tasksPerSec' in r ? r.tasksPerSec : undefined), int, results, errors, notApplicable));
  }
  const baseline = CLUSTER_LAYOUTS.find((l) => l.name === BASELINE_LAYOUT)?.label ?? BASELINE_LAYOUT;
  for (const layout of CLUSTER_LAYOUTS.filter((l) => l.name !== BASELINE_LAYOUT)) {
    const r = row('cluster', `${layout.label} / ${baseline}`, sys, inLayout(layout.name), (x) => ratiosOf(x, results).ratioVsOneNode, times, results, errors, notApplicable);
    // the peer ratio columns compare tasks/s, not these ratios
    rows.push({ ...r, vsBullmq: '', vsBee: '' });
  }
  const cpu = (r: BenchResult | undefined): string | undefined =>
    r?.bench === 'cluster' && r.redisUsPerTask !== undefined && r.workerUsPerTask !== undefined && r.coresBusy !== undefined
      ? `${r.redisUsPerTask.toFixed(1)} + ${r.workerUsPerTask.toFixed(1)}, ${r.coresBusy.toFixed(2)}`
      : undefined;
  for (const layout of CLUSTER_LAYOUTS) {
    const of = (system: SystemName): BenchResult | undefined => results.find((r) => inLayout(layout.name)(r) && r.system === system);
    // no CPU row where /proc could not be read
    if (!sys.some((system) => cpu(of(system)) !== undefined)) continue;
    const metric = `CPU µs/task redis + workers, cores busy (${layout.label})`;
    rows.push({ scenario: 'cluster', metric, cells: cellsOf('cluster', sys, (system) => cpu(of(system)), errors, notApplicable), vsBullmq: '', vsBee: '' });
  }
  return rows;
}

/**
 * The replicas scenario's rows (taskq only; the peers n/a): per mode, the
 * single enqueue's p50 / p99 and the batches' tasks/s, each followed by the
 * ratio of `{ replicas: 1 }` to off; then the time a refused enqueue took
 * with the replica stopped.
 */
function replicasRows(plan: BenchPlan, results: readonly BenchResult[], errors: readonly RunError[], notApplicable: readonly NotApplicable[]): Row[] {
  const sys = plan.systems;
  const textRow = (metric: string, text: (system: SystemName) => string | undefined): Row => ({
    scenario: 'replicas',
    metric,
    cells: cellsOf('replicas', sys, text, errors, notApplicable),
    vsBullmq: '',
    vsBee: '',
  });
  const up = (mode: string) => (system: SystemName): ReplicasResult | undefined =>
    results.find((r): r is ReplicasResult => r.bench === 'replicas' && r.mode === mode && r.system === system);
  const others = REPLICAS_MODES.filter((m) => m.name !== REPLICAS_BASELINE);
  const baseline = REPLICAS_MODES.find((m) => m.name === REPLICAS_BASELINE)?.label ?? REPLICAS_BASELINE;
  const ratioOf = (r: ReplicasResult | undefined, key: 'p50VsOff' | 'p99VsOff' | 'batchVsOff'): string => times(r ? ratiosOf(r, results)[key] : undefined);
  const rows: Row[] = [];
  const size = `n=${int(plan.replicasN)}, median of ${plan.repeat}`;
  REPLICAS_MODES.forEach((mode, i) => {
    const metric = `one enqueue at a time, p50 / p99 ms, ${mode.label}${i === 0 ? ` (${size})` : ''}`;
    rows.push(textRow(metric, (s) => {
      const r = up(mode.name)(s);
      return r && `${ms(r.p50Ms)} / ${ms(r.p99Ms)}`;
    }));
  });
  for (const mode of others) {
    rows.push(textRow(`one enqueue at a time, ${mode.label} / ${baseline}, p50 / p99`, (s) => {
      const r = up(mode.name)(s);
      return r && `${ratioOf(r, 'p50VsOff')} / ${ratioOf(r, 'p99VsOff')}`;
    }));
  }
  REPLICAS_MODES.forEach((mode, i) => {
    const metric = `enqueueMany by ${REPLICAS_BATCH}, tasks/s, ${mode.label}${i === 0 ? ` (${size})` : ''}`;
    rows.push(textRow(metric, (s) => {
      const r = up(mode.name)(s);
      return r && int(r.batchTasksPerSec);
    }));
  });
  for (const mode of others) {
    rows.push(textRow(`enqueueMany by ${REPLICAS_BATCH}, ${mode.label} / ${baseline}`, (s) => {
      const r = up(mode.name)(s);
      return r && ratioOf(r, 'batchVsOff');
    }));
  }
  const down = (system: SystemName): ReplicaDownResult | undefined =>
    results.find((r): r is ReplicaDownResult => r.bench === 'replicas' && r.mode === REPLICA_DOWN.name && r.system === system);
  rows.push(textRow(`${REPLICA_DOWN.label}: ms to NotReplicatedError, p50 / p99 (n=${int(plan.replicasDownN)})`, (s) => {
    const r = down(s);
    return r && `${ms(r.p50Ms)} / ${ms(r.p99Ms)}`;
  }));
  return rows;
}

/** One JSON line per result, with ratios; then one per failed run; then one per scenario a system does not run. */
export function jsonLines(results: readonly BenchResult[], errors: readonly RunError[], notApplicable: readonly NotApplicable[] = []): string[] {
  return [
    ...results.map((r) => JSON.stringify(jsonRecord(r, results))),
    ...errors.map((e) => JSON.stringify({ bench: e.bench, system: e.system, n: e.n, error: e.error })),
    ...notApplicable.map((x) => JSON.stringify({ bench: x.bench, system: x.system, n: x.n, notApplicable: x.reason })),
  ];
}

/** `n/a  weighted bee-queue: <reason>`: one line per scenario a system does not run. */
export function notApplicableLines(notApplicable: readonly NotApplicable[]): string[] {
  return notApplicable.map((x) => `n/a  ${x.bench} ${x.system}: ${x.reason}`);
}
