import { batchBounds, REPLICA_DOWN, REPLICAS_MODES, replicasRatios, runFigures, summarizeDown, summarizeRuns, type DownOutcome } from './replicas';

describe('REPLICAS_MODES and REPLICA_DOWN', () => {
  it('runs without the option first, then with one replica and the default timeout; the replica-down enqueues give up after 50 ms', () => {
    expect(REPLICAS_MODES.map((m) => [m.name, m.waitForReplicas])).toEqual([
      ['off', undefined],
      ['wait-1', { replicas: 1 }],
    ]);
    expect(REPLICA_DOWN.waitForReplicas).toEqual({ replicas: 1, timeoutMs: 50 });
  });
});

describe('batchBounds', () => {
  it('cuts n tasks into batches of 100, in order, the last one smaller', () => {
    expect(batchBounds(250)).toEqual([
      [0, 100],
      [100, 200],
      [200, 250],
    ]);
    expect(batchBounds(200, 100)).toEqual([
      [0, 100],
      [100, 200],
    ]);
    expect(batchBounds(3, 100)).toEqual([[0, 3]]);
    expect(batchBounds(0)).toEqual([]);
  });

  it('covers every task exactly once', () => {
    const covered = batchBounds(10_001, 100).reduce((sum, [from, to]) => sum + (to - from), 0);
    expect(covered).toBe(10_001);
  });

  it('refuses a size or count that is not a whole number', () => {
    expect(() => batchBounds(10, 0)).toThrow(RangeError);
    expect(() => batchBounds(1.5)).toThrow(RangeError);
  });
});

describe('runFigures', () => {
  it("takes the single enqueues' p50 and p99 by nearest rank, and the batches' rate as measured", () => {
    const singleMs = Array.from({ length: 100 }, (_, i) => i + 1); // 1 … 100 ms
    expect(runFigures({ singleMs, batchTasksPerSec: 40_000 })).toEqual({ p50Ms: 50, p99Ms: 99, batchTasksPerSec: 40_000 });
  });
});

describe('summarizeRuns', () => {
  it('takes the median of each figure on its own and keeps every run in order', () => {
    const s = summarizeRuns([
      { p50Ms: 0.3, p99Ms: 2, batchTasksPerSec: 50_000 },
      { p50Ms: 0.5, p99Ms: 1, batchTasksPerSec: 70_000 },
      { p50Ms: 0.4, p99Ms: 3, batchTasksPerSec: 60_000 },
    ]);
    expect(s).toEqual({
      p50Ms: 0.4,
      p99Ms: 2,
      batchTasksPerSec: 60_000,
      runsP50Ms: [0.3, 0.5, 0.4],
      runsP99Ms: [2, 1, 3],
      runsBatchTasksPerSec: [50_000, 70_000, 60_000],
    });
  });

  it('refuses no runs', () => {
    expect(() => summarizeRuns([])).toThrow(RangeError);
  });
});

describe('replicasRatios', () => {
  it('gives each figure with the WAIT over the same without, and the ms the WAIT adds to a median enqueue', () => {
    const r = replicasRatios({ p50Ms: 0.6, p99Ms: 3, batchTasksPerSec: 30_000 }, { p50Ms: 0.4, p99Ms: 2, batchTasksPerSec: 60_000 });
    expect(r.p50VsOff).toBeCloseTo(1.5, 10);
    expect(r.p99VsOff).toBe(1.5);
    expect(r.batchVsOff).toBe(0.5);
    expect(r.p50AddedMs).toBeCloseTo(0.2, 10);
  });

  it('has no ratio without the baseline', () => {
    expect(replicasRatios({ p50Ms: 1, p99Ms: 2, batchTasksPerSec: 3 }, undefined)).toEqual({});
  });
});

describe('summarizeDown', () => {
  const refused = (ms: number): DownOutcome => ({ ms, notReplicated: true, confirmed: 0 });

  it('gives p50, p99, min and max of the time each refused enqueue took', () => {
    const outcomes = [...Array.from({ length: 98 }, () => refused(100)), refused(64), refused(130)];
    expect(summarizeDown(outcomes)).toEqual({ calls: 100, p50Ms: 100, p99Ms: 100, minMs: 64, maxMs: 130 });
  });

  it('fails, naming the enqueue, when one resolved or failed otherwise: the WAIT was not made or not heeded', () => {
    expect(() => summarizeDown([refused(100), { ms: 1, notReplicated: false }])).toThrow(
      'enqueue 2 of 2 with the replica stopped resolved instead of rejecting with NotReplicatedError',
    );
    expect(() => summarizeDown([{ ms: 1, notReplicated: false, error: 'ReplyError: ERR' }])).toThrow('failed otherwise: ReplyError: ERR');
  });

  it('fails when a refusal says a replica confirmed', () => {
    expect(() => summarizeDown([{ ms: 100, notReplicated: true, confirmed: 1 }])).toThrow('says 1 replica(s) confirmed, expected 0');
  });

  it('refuses no enqueues', () => {
    expect(() => summarizeDown([])).toThrow(RangeError);
  });
});
