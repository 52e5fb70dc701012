import {
  describeConcurrencies,
  fleetConcurrencies,
  fleetConfigs,
  fleetRatios,
  fleetTargetRatio,
  idleFleetScriptCalls,
  ranCountProblem,
  splitFleetWarmup,
  summarizeFleet,
  type FleetSample,
} from './fleet';
import { headline, jsonRecord, ratiosOf } from './results';
import { fleet, idleFleet } from './test-support/fleet-results';
import { tput } from './test-support/results';

describe('fleetConcurrencies', () => {
  it('splits the concurrency over the processes in same-total mode (the parts sum to it), and gives each all of it in same-per-process mode', () => {
    expect(fleetConcurrencies('same-total', 1, 50)).toEqual([50]);
    expect(fleetConcurrencies('same-total', 2, 50)).toEqual([25, 25]);
    expect(fleetConcurrencies('same-total', 4, 50)).toEqual([13, 13, 12, 12]);
    expect(fleetConcurrencies('same-per-process', 4, 50)).toEqual([50, 50, 50, 50]);
  });

  it('refuses a fleet its concurrency cannot give a sub-worker each, and no processes', () => {
    expect(() => fleetConcurrencies('same-total', 51, 50)).toThrow(RangeError);
    expect(() => fleetConcurrencies('same-per-process', 0, 50)).toThrow(RangeError);
  });
});

describe('fleetConfigs', () => {
  it('runs K = 1 once for both modes, then each larger K per mode, in ascending K', () => {
    const configs = fleetConfigs([4, 1, 2], ['same-total', 'same-per-process'], 50);
    expect(configs.map((c) => `${c.workers}:${c.concurrencies.join('+')}:${c.modes.join('|')}`)).toEqual([
      '1:50:same-total|same-per-process',
      '2:25+25:same-total',
      '2:50+50:same-per-process',
      '4:13+13+12+12:same-total',
      '4:50+50+50+50:same-per-process',
    ]);
  });

  it('takes only the modes asked for, in the order of FLEET_MODES', () => {
    expect(fleetConfigs([2], ['same-per-process'], 50)).toEqual([{ workers: 2, concurrencies: [50, 50], modes: ['same-per-process'] }]);
    expect(fleetConfigs([1], ['same-per-process', 'same-total'], 50)[0]?.modes).toEqual(['same-total', 'same-per-process']);
  });
});

describe('describeConcurrencies', () => {
  it('writes equal processes as K x c and unequal ones as a sum', () => {
    expect(describeConcurrencies([50, 50])).toBe('2 x 50');
    expect(describeConcurrencies([13, 13, 12, 12])).toBe('13+13+12+12');
  });
});

describe('summarizeFleet', () => {
  const sample = (tasksPerSec: number, redisUsPerTask: number, workerUsPerTask: number | undefined): FleetSample => ({
    tasksPerSec,
    redisUsPerTask,
    redisCommandsPerTask: redisUsPerTask / 10,
    redisReadsPerTask: 0.1,
    redisScriptCallsPerTask: 0.04,
    workerUsPerTask,
  });

  it('takes the median of each figure on its own and keeps every run', () => {
    const s = summarizeFleet([sample(30_000, 12, 20), sample(10_000, 8, 40), sample(20_000, 30, 10)]);
    expect(s).toEqual({
      tasksPerSec: 20_000,
      usPerTask: 50,
      runs: [30_000, 10_000, 20_000],
      redisUsPerTask: 12,
      redisCommandsPerTask: 1.2,
      redisReadsPerTask: 0.1,
      redisScriptCallsPerTask: 0.04,
      workerUsPerTask: 20,
    });
  });

  it('leaves the workers CPU out unless every run has it', () => {
    expect(summarizeFleet([sample(1, 1, 5), sample(1, 1, undefined)])).not.toHaveProperty('workerUsPerTask');
    expect(() => summarizeFleet([])).toThrow(RangeError);
  });
});

describe('fleet ratios', () => {
  const all = [
    fleet('taskq', 1, 'same-per-process', 40_000),
    fleet('taskq', 2, 'same-per-process', 60_000),
    fleet('taskq', 2, 'same-total', 45_000),
    fleet('bullmq', 1, 'same-per-process', 10_000),
    fleet('bullmq', 2, 'same-per-process', 12_000),
    fleet('bullmq', 2, 'same-total', 9_000),
    fleet('bee-queue', 2, 'same-per-process', 30_000),
    tput('drain', 'bullmq', 1),
  ];

  it('compares with the peers at the same K and mode, and with the same system at K = 1 in that mode', () => {
    expect(fleetRatios(fleet('taskq', 2, 'same-per-process', 60_000), all)).toEqual({ ratioVsBullmq: 5, ratioVsBeeQueue: 2, ratioVsOneWorker: 1.5 });
    expect(ratiosOf(all[2], all)).toEqual({ ratioVsBullmq: 5, ratioVsBeeQueue: undefined, ratioVsOneWorker: undefined });
    expect(ratiosOf(all[4], all)).toMatchObject({ ratioVsBullmq: 1, ratioVsOneWorker: 1.2 });
  });

  it('judges the targets in same-per-process mode at the K asked for', () => {
    expect(fleetTargetRatio(all, 2)).toBe(5);
    expect(fleetTargetRatio(all, 2, 'same-total')).toBe(5);
    expect(fleetTargetRatio(all, 1)).toBe(4);
    expect(fleetTargetRatio(all, 4)).toBeUndefined();
  });

  it('writes K, the mode, the concurrencies, the Redis cost and the ratios in its JSON record', () => {
    expect(jsonRecord(all[1], all)).toEqual({
      bench: 'fleet',
      system: 'taskq',
      n: 50_000,
      mode: 'same-per-process',
      workers: 2,
      concurrency: [50, 50],
      tasksPerSec: 60_000,
      usPerTask: 16.67,
      runs: [60_000],
      redisUsPerTask: 10,
      redisCommandsPerTask: 1,
      redisReadsPerTask: 0.05,
      redisScriptCallsPerTask: 0.04,
      ratioVsBullmq: 5,
      ratioVsBeeQueue: 2,
      ratioVsOneWorker: 1.5,
    });
  });
});

describe('idle fleet results', () => {
  it("has Redis's CPU per task as its headline (lower is better) and compares it with the peers'", () => {
    const taskq = idleFleet('taskq', 2.1, { redisUsPerTask: 40 });
    const all = [taskq, idleFleet('bullmq', 2.7, { redisUsPerTask: 80 }), idleFleet('bee-queue', 1, { redisUsPerTask: 20 })];
    expect(headline(taskq)).toEqual({ metric: 'redisUsPerTask', value: 40, higherIsBetter: false });
    expect(ratiosOf(taskq, all)).toEqual({ ratioVsBullmq: 0.5, ratioVsBeeQueue: 2 });
    expect(jsonRecord(taskq, all)).toMatchObject({ bench: 'idle-fleet', workers: 8, concurrency: 10, redisScriptCallsPerTask: 2.1, ranPerWorker: [1250, 1250, 1250, 1250, 1250, 1250, 1250, 1250] });
  });

  it("splits each process's latencies at its warm-up count: the warm-up's and the stream's, over all processes", () => {
    const reports = [
      { handled: 4, latenciesMs: [90, 80, 1, 2] },
      { handled: 3, latenciesMs: [70, 3, 4] },
      { handled: 2, latenciesMs: [5, 6] },
    ];
    const split = splitFleetWarmup(reports, [2, 1, 0]);
    expect(split.warmup).toMatchObject({ count: 3, p50Ms: 80, maxMs: 90 });
    expect(split.run).toMatchObject({ count: 6, p50Ms: 3, p99Ms: 6, maxMs: 6 });
    expect(split.ranPerWorker).toEqual([2, 2, 2]);
  });

  it('refuses a warm-up count that does not fit what a process reported', () => {
    expect(() => splitFleetWarmup([{ handled: 2, latenciesMs: [1, 2] }], [3])).toThrow(/process 1: 2 latencies for 2 task\(s\), 3 of them the warm-up/);
    expect(() => splitFleetWarmup([{ handled: 3, latenciesMs: [1, 2] }], [0])).toThrow(/process 1: 2 latencies for 3 task/);
    expect(() => splitFleetWarmup([{ handled: 1, latenciesMs: [1] }], [])).toThrow(/0 warm-up counts for 1 processes/);
  });

  it("gives taskq's script calls per task to the target, and nothing without taskq", () => {
    expect(idleFleetScriptCalls([idleFleet('bullmq', 3), idleFleet('taskq', 1.25)])).toBe(1.25);
    expect(idleFleetScriptCalls([idleFleet('bullmq', 3)])).toBeUndefined();
  });
});

describe('ranCountProblem', () => {
  it('accepts each task run once over all the processes', () => {
    expect(ranCountProblem('taskq', [3, 4, 3], 10)).toBeUndefined();
  });

  it('calls fewer runs lost and more runs duplicates, naming each process count', () => {
    expect(ranCountProblem('bullmq', [3, 4, 2], 10)).toEqual({ lost: true, message: 'bullmq: the worker processes ran 9 (3 + 4 + 2) of 10 task(s)' });
    expect(ranCountProblem('taskq', [6, 5], 10)).toEqual({ lost: false, message: 'taskq: the worker processes ran 11 (6 + 5) tasks for 10: some ran more than once' });
    expect(ranCountProblem('taskq', [9], 10)?.message).toBe('taskq: the worker processes ran 9 of 10 task(s)');
  });
});
