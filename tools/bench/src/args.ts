import yargs from 'yargs';
import { throwingUsage, UsageError } from '@taskq/app-kit';
import { FLEET_MODE_NAMES, type FleetModeName } from './fleet';
import { REFERENCE_SYSTEMS, SCENARIOS, SYSTEMS, type ScenarioName, type SystemName } from './names';
import { FULL_SIZES, SMOKE_SIZES, type BenchPlan } from './plan';

/** What a bench run does: the plan plus where the results go. */
export interface BenchOptions {
  readonly plan: BenchPlan;
  /** Write the full results JSON here. Default: not written. */
  readonly out: string | undefined;
  /** Print each run's result on stderr as it comes. Default true. */
  readonly progress: boolean;
}

export { UsageError };

/** Splits a comma list and checks every item is one of `allowed`; keeps the order of `allowed`, drops repeats. */
export function pickList<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--${flag} needs at least one of ${allowed.join(', ')}`);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new UsageError(`--${flag}: unknown ${JSON.stringify(item)}; choose from ${allowed.join(', ')}`);
    }
  }
  return allowed.filter((a) => items.includes(a));
}

/** Parses "10k,100000,1m" into ascending distinct whole numbers >= 1. */
export function parseSizes(flag: string, value: string): number[] {
  const sizes = value.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(s);
    const n = m ? Number(m[1]) * (m[2]?.toLowerCase() === 'k' ? 1e3 : m[2]?.toLowerCase() === 'm' ? 1e6 : 1) : NaN;
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${flag}: ${JSON.stringify(s)} is not a whole number >= 1 (1000, 10k, 1m)`);
    return n;
  });
  if (sizes.length === 0) throw new UsageError(`--${flag} needs at least one size`);
  return [...new Set(sizes)].sort((a, b) => a - b);
}

const wholeAtLeast = (flag: string, value: number, min: number): number => {
  if (!Number.isInteger(value) || value < min) throw new UsageError(`--${flag} must be a whole number >= ${min}, got ${value}`);
  return value;
};

/** Worker processes a fleet may have (each costs about half a second of CPU to start; fewer than the concurrency, 50, which same-total splits). */
const MAX_PROCESSES = 32;

/** Parses the bench CLI flags (strict: unknown flags are errors). Throws UsageError. */
export function parseArgs(argv: readonly string[]): BenchOptions {
  const parser = yargs([...argv])
    .scriptName('bench')
    .usage(
      '$0 [options]\n\n' +
        'Runs taskq, BullMQ and bee-queue one after another on one private redis-server (the cluster ' +
        'scenario also on a private Redis Cluster of 3 masters, the replicas scenario on a private master ' +
        'with one replica) and prints a table, one JSON line per ' +
        'system and scenario, and PASS/FAIL per target. Exit 0 when every run completed without losing ' +
        'a task (targets do not change the exit code); 1 when a system failed or lost tasks; 2 on bad ' +
        'usage; 130 when interrupted.',
    )
    .option('smoke', { type: 'boolean', default: false, describe: 'small sizes (CI): checks that everything runs; targets are not judged' })
    .option('repeat', { type: 'number', describe: 'runs of each enqueue/drain/weighted/cluster/replicas/fleet/latency/scale measurement (median reported)', defaultDescription: '3; smoke 1' })
    .option('only', {
      type: 'string',
      describe: `systems to run, comma-separated (${SYSTEMS.join(',')}; drain only: the lean references ${REFERENCE_SYSTEMS.join(',')})`,
      defaultDescription: SYSTEMS.join(','),
    })
    .option('scenarios', { type: 'string', describe: `scenarios to run, comma-separated (${SCENARIOS.join(',')})`, defaultDescription: 'all' })
    .option('n', { type: 'number', describe: 'tasks per enqueue and drain run', defaultDescription: '50000; smoke 2000' })
    .option('weighted-n', { type: 'number', describe: 'weighted: tasks per run, over the three queues', defaultDescription: '50000; smoke 2000' })
    .option('cluster-n', { type: 'number', describe: 'cluster: tasks per run, in total (1 queue on 1 node, or 3 queues)', defaultDescription: '50000; smoke 2000' })
    .option('replicas-n', { type: 'number', describe: 'replicas: tasks per run and mode, one enqueue at a time and again in batches of 100', defaultDescription: '10000; smoke 500' })
    .option('replicas-down-n', { type: 'number', describe: 'replicas: single enqueues with the replica stopped (~50 ms or more each)', defaultDescription: '100; smoke 10' })
    .option('fleet-n', { type: 'number', describe: 'fleet: tasks per drain run', defaultDescription: '50000; smoke 1000' })
    .option('fleet-k', { type: 'string', describe: 'fleet: worker processes per run (K), comma-separated', defaultDescription: '1,2,4; smoke 2' })
    .option('fleet-modes', {
      type: 'string',
      describe: `fleet: ${FLEET_MODE_NAMES.join(' (the concurrency split over the K processes), ')} (the concurrency in each), comma-separated`,
      defaultDescription: `${FLEET_MODE_NAMES.join(',')}; smoke same-per-process`,
    })
    .option('idle-fleet-workers', { type: 'number', describe: 'idle-fleet: idle worker processes', defaultDescription: '8; smoke 2' })
    .option('idle-fleet-concurrency', { type: 'number', describe: 'idle-fleet: sub-workers of each idle process', defaultDescription: '10' })
    .option('idle-fleet-rate', { type: 'number', describe: 'idle-fleet: tasks per second, one at a time', defaultDescription: '1000' })
    .option('idle-fleet-ms', { type: 'number', describe: 'idle-fleet: producer run time, ms', defaultDescription: '10000; smoke 500' })
    .option('latency-rate', { type: 'number', describe: 'latency: tasks per second', defaultDescription: '1000; smoke 200' })
    .option('latency-ms', { type: 'number', describe: 'latency: producer run time, ms', defaultDescription: '10000; smoke 2000' })
    .option('memory-n', { type: 'number', describe: 'memory: tasks queued', defaultDescription: '100000; smoke 5000' })
    .option('scale-sizes', { type: 'string', describe: 'scale: drain sizes (10k,100k,1m)', defaultDescription: '10k,100k,1m; smoke 1k,5k,10k' })
    .option('hand-off', { type: 'boolean', default: false, describe: "taskq's workers take tasks in their wake messages (WorkerPool handOff: true, opt-in; docs/design/hand-off.md)" })
    .option('out', { type: 'string', describe: 'also write the full results JSON to this file' })
    .option('progress', { type: 'boolean', default: true, describe: 'print each run on stderr as it finishes (--no-progress: quiet)' });
  const a = throwingUsage(parser).parseSync();

  const sizes = a.smoke ? SMOKE_SIZES : FULL_SIZES;
  const plan: BenchPlan = {
    n: wholeAtLeast('n', a.n ?? sizes.n, 1),
    repeat: wholeAtLeast('repeat', a.repeat ?? sizes.repeat, 1),
    concurrency: sizes.concurrency,
    weightedN: wholeAtLeast('weighted-n', a['weighted-n'] ?? sizes.weightedN, 1),
    clusterN: wholeAtLeast('cluster-n', a['cluster-n'] ?? sizes.clusterN, 3),
    replicasN: wholeAtLeast('replicas-n', a['replicas-n'] ?? sizes.replicasN, 1),
    replicasDownN: wholeAtLeast('replicas-down-n', a['replicas-down-n'] ?? sizes.replicasDownN, 1),
    fleetN: wholeAtLeast('fleet-n', a['fleet-n'] ?? sizes.fleetN, 1),
    fleetK: a['fleet-k'] === undefined ? sizes.fleetK : parseSizes('fleet-k', a['fleet-k']),
    fleetModes: a['fleet-modes'] === undefined ? sizes.fleetModes : pickList<FleetModeName>('fleet-modes', a['fleet-modes'], FLEET_MODE_NAMES),
    idleFleetWorkers: wholeAtLeast('idle-fleet-workers', a['idle-fleet-workers'] ?? sizes.idleFleetWorkers, 1),
    idleFleetConcurrency: wholeAtLeast('idle-fleet-concurrency', a['idle-fleet-concurrency'] ?? sizes.idleFleetConcurrency, 1),
    idleFleetRate: wholeAtLeast('idle-fleet-rate', a['idle-fleet-rate'] ?? sizes.idleFleetRate, 1),
    idleFleetMs: wholeAtLeast('idle-fleet-ms', a['idle-fleet-ms'] ?? sizes.idleFleetMs, 1),
    latencyRate: wholeAtLeast('latency-rate', a['latency-rate'] ?? sizes.latencyRate, 1),
    latencyMs: wholeAtLeast('latency-ms', a['latency-ms'] ?? sizes.latencyMs, 1),
    memoryN: wholeAtLeast('memory-n', a['memory-n'] ?? sizes.memoryN, 1),
    scaleSizes: a['scale-sizes'] === undefined ? sizes.scaleSizes : parseSizes('scale-sizes', a['scale-sizes']),
    systems: a.only === undefined ? [...SYSTEMS] : pickList<SystemName>('only', a.only, [...SYSTEMS, ...REFERENCE_SYSTEMS]),
    scenarios: a.scenarios === undefined ? [...SCENARIOS] : pickList<ScenarioName>('scenarios', a.scenarios, SCENARIOS),
    smoke: a.smoke,
    handOff: a['hand-off'],
  };
  if (plan.latencyRate > 100_000) throw new UsageError(`--latency-rate must be at most 100000, got ${plan.latencyRate}`);
  if (plan.idleFleetRate > 100_000) throw new UsageError(`--idle-fleet-rate must be at most 100000, got ${plan.idleFleetRate}`);
  const maxK = Math.max(...plan.fleetK);
  if (maxK > MAX_PROCESSES || plan.idleFleetWorkers > MAX_PROCESSES) {
    throw new UsageError(`--fleet-k and --idle-fleet-workers must be at most ${MAX_PROCESSES} worker processes`);
  }
  return { plan, out: a.out, progress: a.progress };
}
