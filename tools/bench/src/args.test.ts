import { parseArgs, parseSizes, pickList, UsageError } from './args';
import { FULL_SIZES, SMOKE_SIZES } from './plan';

describe('parseArgs', () => {
  it('runs every system and scenario at the issue sizes by default', () => {
    const { plan, out, progress } = parseArgs([]);
    expect(plan).toMatchObject({ ...FULL_SIZES, smoke: false });
    expect(plan.systems).toEqual(['taskq', 'bullmq', 'bee-queue']);
    expect(plan.scenarios).toEqual(['enqueue', 'drain', 'weighted', 'cluster', 'replicas', 'fleet', 'idle-fleet', 'latency', 'memory', 'scale']);
    expect(plan.n).toBe(50_000);
    expect(plan.weightedN).toBe(50_000);
    expect(plan.clusterN).toBe(50_000);
    expect(plan.replicasN).toBe(10_000);
    expect(plan.replicasDownN).toBe(100);
    expect(plan.scaleSizes).toEqual([10_000, 100_000, 1_000_000]);
    expect(plan).toMatchObject({ fleetN: 50_000, fleetK: [1, 2, 4], fleetModes: ['same-total', 'same-per-process'] });
    expect(plan).toMatchObject({ idleFleetWorkers: 8, idleFleetConcurrency: 10, idleFleetRate: 1000, idleFleetMs: 10_000 });
    expect(out).toBeUndefined();
    expect(progress).toBe(true);
  });

  it('--smoke takes the small sizes, and explicit flags still override them', () => {
    expect(parseArgs(['--smoke']).plan).toMatchObject({ ...SMOKE_SIZES, smoke: true });
    expect(parseArgs(['--smoke', '--n', '300', '--repeat', '2']).plan).toMatchObject({ n: 300, repeat: 2, memoryN: SMOKE_SIZES.memoryN });
    expect(parseArgs(['--smoke']).plan.weightedN).toBe(2000);
    expect(parseArgs(['--smoke', '--weighted-n', '900']).plan).toMatchObject({ weightedN: 900, n: SMOKE_SIZES.n });
    expect(parseArgs(['--smoke']).plan.clusterN).toBe(2000);
    expect(parseArgs(['--smoke', '--cluster-n', '600']).plan).toMatchObject({ clusterN: 600, weightedN: SMOKE_SIZES.weightedN });
    expect(parseArgs(['--smoke']).plan).toMatchObject({ replicasN: 500, replicasDownN: 10 });
    expect(parseArgs(['--smoke', '--replicas-n', '300', '--replicas-down-n', '4']).plan).toMatchObject({ replicasN: 300, replicasDownN: 4, n: SMOKE_SIZES.n });
  });

  it('--smoke runs a small fleet and a short idle-fleet trickle, and the fleet flags override them', () => {
    expect(parseArgs(['--smoke']).plan).toMatchObject({ fleetN: 1000, fleetK: [2], fleetModes: ['same-per-process'], idleFleetWorkers: 2, idleFleetMs: 500 });
    const plan = parseArgs(['--smoke', '--fleet-n', '300', '--fleet-k', '4, 1,2,2', '--fleet-modes', 'same-per-process,same-total']).plan;
    expect(plan).toMatchObject({ fleetN: 300, fleetK: [1, 2, 4], fleetModes: ['same-total', 'same-per-process'] });
    const idle = parseArgs(['--idle-fleet-workers', '3', '--idle-fleet-concurrency', '4', '--idle-fleet-rate', '500', '--idle-fleet-ms', '2000']).plan;
    expect(idle).toMatchObject({ idleFleetWorkers: 3, idleFleetConcurrency: 4, idleFleetRate: 500, idleFleetMs: 2000 });
    expect(parseArgs(['--scenarios', 'idle-fleet,fleet']).plan.scenarios).toEqual(['fleet', 'idle-fleet']);
  });

  it('--only and --scenarios filter, keeping the run order whatever order they are given in', () => {
    const { plan } = parseArgs(['--only', 'bullmq,taskq', '--scenarios', 'memory, enqueue']);
    expect(plan.systems).toEqual(['taskq', 'bullmq']);
    expect(plan.scenarios).toEqual(['enqueue', 'memory']);
  });

  it('--only takes the lean references after the peers, and the default is the peers alone', () => {
    expect(parseArgs([]).plan.systems).toEqual(['taskq', 'bullmq', 'bee-queue']);
    expect(parseArgs(['--only', 'lean-full,bullmq,lean']).plan.systems).toEqual(['bullmq', 'lean', 'lean-full']);
  });

  it('takes --out, --scale-sizes and --no-progress', () => {
    const { plan, out, progress } = parseArgs(['--out', 'r.json', '--scale-sizes', '100k,10k', '--no-progress']);
    expect(out).toBe('r.json');
    expect(plan.scaleSizes).toEqual([10_000, 100_000]);
    expect(progress).toBe(false);
  });

  it.each([
    [['--only', 'sidekiq'], /unknown "sidekiq"/],
    [['--scenarios', ''], /at least one/],
    [['--repeat', '0'], /--repeat must be a whole number >= 1/],
    [['--n', '1.5'], /--n must be a whole number/],
    [['--weighted-n', '0'], /--weighted-n must be a whole number >= 1/],
    [['--cluster-n', '2'], /--cluster-n must be a whole number >= 3/],
    [['--replicas-n', '0'], /--replicas-n must be a whole number >= 1/],
    [['--replicas-down-n', '2.5'], /--replicas-down-n must be a whole number >= 1/],
    [['--latency-rate', '200000'], /at most 100000/],
    [['--fleet-k', '0'], /--fleet-k: "0" is not a whole number >= 1/],
    [['--fleet-k', '33'], /at most 32 worker processes/],
    [['--fleet-modes', 'same'], /--fleet-modes: unknown "same"/],
    [['--idle-fleet-workers', '0'], /--idle-fleet-workers must be a whole number >= 1/],
    [['--idle-fleet-rate', '200000'], /--idle-fleet-rate must be at most 100000/],
    [['--frobnicate'], /Unknown argument/i],
  ])('rejects %j with a UsageError', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

describe('parseSizes', () => {
  it('reads plain numbers, k and m suffixes, sorts and drops repeats', () => {
    expect(parseSizes('s', '1m, 10k,100000,10000')).toEqual([10_000, 100_000, 1_000_000]);
    expect(parseSizes('s', '2.5k')).toEqual([2500]);
  });

  it('rejects what is not a whole number >= 1', () => {
    expect(() => parseSizes('s', '0')).toThrow(UsageError);
    expect(() => parseSizes('s', '1.5')).toThrow(UsageError);
    expect(() => parseSizes('s', 'lots')).toThrow(UsageError);
    expect(() => parseSizes('s', ',')).toThrow(UsageError);
  });
});

describe('pickList', () => {
  it('keeps the order of the allowed values and ignores repeats', () => {
    expect(pickList('x', 'c,a,c', ['a', 'b', 'c'] as const)).toEqual(['a', 'c']);
  });
});
