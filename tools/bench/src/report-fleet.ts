import { describeConcurrencies, FLEET_MODES, fleetConfigs, idleFleetWarmupMs, type FleetConfig, type FleetResult } from './fleet';
import type { SystemName } from './names';
import type { BenchPlan } from './plan';
import { cellsOf, row, type Pick as PickValue, type Row } from './report';
import { ratiosOf, type BenchResult, type RunError } from './results';

const int = (v: number): string => Math.round(v).toLocaleString('en-US');
const fixed = (digits: number) => (v: number): string => v.toFixed(digits);
const times = (v: number): string => `${v.toFixed(2)}x`;

const modeLabel = (config: FleetConfig): string =>
  config.modes.length === FLEET_MODES.length ? 'either mode' : config.modes.map((m) => FLEET_MODES.find((x) => x.name === m)?.label ?? m).join(', ');

/** `K=2: 2 x 50, same concurrency per process`. */
const configLabel = (config: FleetConfig): string => `K=${config.workers}: ${describeConcurrencies(config.concurrencies)}, ${modeLabel(config)}`;

/**
 * The fleet scenario's rows, one per configuration (K = 1 once: it is the
 * same in both modes): tasks/s with taskq's ratios at the same K and mode;
 * then each K > 1 over the same system's K = 1; then Redis's CPU per task
 * (INFO) + the worker processes' (/proc, where readable), µs.
 */
export function fleetRows(plan: BenchPlan, results: readonly BenchResult[], errors: readonly RunError[]): Row[] {
  const sys = plan.systems;
  const configs = fleetConfigs(plan.fleetK, plan.fleetModes, plan.concurrency);
  const inConfig = (config: FleetConfig) => (r: BenchResult): boolean =>
    r.bench === 'fleet' && r.workers === config.workers && r.mode === config.modes[0];
  const of = (config: FleetConfig, system: SystemName): FleetResult | undefined =>
    results.find((r): r is FleetResult => inConfig(config)(r) && r.system === system);
  const textRow = (metric: string, text: (system: SystemName) => string | undefined): Row => ({
    scenario: 'fleet',
    metric,
    cells: cellsOf('fleet', sys, text, errors, []),
    vsBullmq: '',
    vsBee: '',
  });
  const rows: Row[] = [];
  const tput: PickValue = (r) => (r.bench === 'fleet' ? r.tasksPerSec : undefined);
  configs.forEach((config, i) => {
    const metric = `tasks/s, ${configLabel(config)}${i === 0 ? ` (n=${int(plan.fleetN)}, median of ${plan.repeat})` : ''}`;
    rows.push(row('fleet', metric, sys, inConfig(config), tput, int, results, errors));
  });
  for (const config of configs.filter((c) => c.workers > 1)) {
    rows.push(textRow(`K=${config.workers} / K=1, ${modeLabel(config)}`, (system) => {
      const r = of(config, system);
      const v = r ? ratiosOf(r, results).ratioVsOneWorker : undefined;
      return v === undefined ? undefined : times(v);
    }));
  }
  for (const config of configs) {
    rows.push(textRow(`CPU µs/task Redis + workers, ${configLabel(config)}`, (system) => {
      const r = of(config, system);
      if (r?.redisUsPerTask === undefined) return undefined;
      return r.workerUsPerTask === undefined ? r.redisUsPerTask.toFixed(1) : `${r.redisUsPerTask.toFixed(1)} + ${r.workerUsPerTask.toFixed(1)}`;
    }));
  }
  return rows;
}

/**
 * The idle-fleet scenario's rows: per task over the stream, Redis's script
 * calls, commands, round trips (socket reads) and CPU µs, the worker
 * processes' CPU µs (where /proc was read), then the enqueue-to-start p50
 * and p99; taskq's ratio to each peer on every row.
 */
export function idleFleetRows(plan: BenchPlan, results: readonly BenchResult[], errors: readonly RunError[]): Row[] {
  const sys = plan.systems;
  const setup = `${plan.idleFleetWorkers} idle workers x ${plan.idleFleetConcurrency}, ${plan.idleFleetRate}/s for ${plan.idleFleetMs / 1000} s`;
  const of = (r: BenchResult): boolean => r.bench === 'idle-fleet';
  type Figure = 'redisScriptCallsPerTask' | 'redisCommandsPerTask' | 'redisReadsPerTask' | 'redisUsPerTask' | 'p50Ms' | 'p99Ms';
  const pick = (key: Figure): PickValue =>
    (r) => (r.bench === 'idle-fleet' ? r[key] : undefined);
  return [
    row('idle-fleet', `script calls/task (${setup})`, sys, of, pick('redisScriptCallsPerTask'), fixed(2), results, errors),
    row('idle-fleet', 'Redis commands/task', sys, of, pick('redisCommandsPerTask'), fixed(2), results, errors),
    row('idle-fleet', 'round trips (socket reads)/task', sys, of, pick('redisReadsPerTask'), fixed(2), results, errors),
    row('idle-fleet', 'Redis CPU µs/task', sys, of, pick('redisUsPerTask'), fixed(1), results, errors),
    ...(results.some((r) => r.bench === 'idle-fleet' && r.workerUsPerTask !== undefined)
      ? [row('idle-fleet', 'worker processes CPU µs/task', sys, of, (r) => (r.bench === 'idle-fleet' ? r.workerUsPerTask : undefined), fixed(1), results, errors)]
      : []),
    row('idle-fleet', 'enqueue-to-start p50 ms', sys, of, pick('p50Ms'), fixed(2), results, errors),
    row('idle-fleet', 'enqueue-to-start p99 ms', sys, of, pick('p99Ms'), fixed(2), results, errors),
    row('idle-fleet', `warm-up p99 ms (the fleet's first ${idleFleetWarmupMs(plan) / 1000} s, not counted above)`, sys, of, (r) => (r.bench === 'idle-fleet' ? r.warmup.p99Ms : undefined), fixed(2), results, errors),
  ];
}
