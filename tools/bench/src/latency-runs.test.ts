import { latencyResult, splitWarmup, WARMUP_MS, warmupTasks, type LatencyRun } from './latency-runs';
import { summarizeLatencies } from './stats';

describe('warmupTasks', () => {
  it('is the run rate for the warm-up second, at least one task', () => {
    expect(WARMUP_MS).toBe(1000);
    expect(warmupTasks(1000)).toBe(1000);
    expect(warmupTasks(200)).toBe(200);
    expect(warmupTasks(0.2)).toBe(1);
    expect(warmupTasks(300, 500)).toBe(150);
  });
});

describe('splitWarmup', () => {
  it('takes the first latencies as the warm-up and the rest as the run', () => {
    const split = splitWarmup([50, 40, 30, 1, 2, 3, 4], 3, 4);
    expect(split.warmup).toEqual(summarizeLatencies([50, 40, 30]));
    expect(split.run).toEqual(summarizeLatencies([1, 2, 3, 4]));
    expect(split.run.maxMs).toBe(4);
  });

  it('refuses a count that is not warm-up + run (a task ran twice, or one was lost)', () => {
    expect(() => splitWarmup([1, 2, 3], 1, 3)).toThrow(/expected 1 warm-up and 3 measured latencies, got 3/);
    expect(() => splitWarmup([1, 2, 3, 4, 5], 1, 3)).toThrow(RangeError);
  });
});

describe('latencyResult', () => {
  const run = (p99Ms: number, warmupP99Ms: number, us: number, sentPerSec = 1000): LatencyRun => ({
    sentPerSec,
    warmup: { count: 1000, p50Ms: warmupP99Ms / 10, p90Ms: warmupP99Ms / 2, p99Ms: warmupP99Ms, maxMs: warmupP99Ms * 3 },
    run: { count: 10_000, p50Ms: p99Ms / 5, p90Ms: p99Ms / 2, p99Ms, maxMs: p99Ms * 4 },
    redisCost: { redisUsPerTask: us, redisCommandsPerTask: us / 10, redisReadsPerTask: 2, redisScriptCallsPerTask: 1 },
    polls: Math.round(us),
  });
  const shape = { n: 10_000, ratePerSec: 1000, durationMs: 10_000, warmupMs: 1000 };

  it("reports the median of the runs' percentiles, every run's p99, the warm-up's medians apart and Redis's medians", () => {
    const r = latencyResult('taskq', shape, [run(3, 9, 40, 990), run(1, 30, 20, 1000), run(2, 6, 30, 995)]);
    expect(r).toEqual({
      bench: 'latency',
      system: 'taskq',
      ...shape,
      sentPerSec: 995,
      p50Ms: 0.4,
      p90Ms: 1,
      p99Ms: 2,
      maxMs: 8,
      runsP99Ms: [3, 1, 2],
      warmup: { p50Ms: 0.9, p99Ms: 9, maxMs: 27 },
      redisUsPerTask: 30,
      redisCommandsPerTask: 3,
      redisReadsPerTask: 2,
      redisScriptCallsPerTask: 1,
      runsRedisUsPerTask: [40, 20, 30],
      waitForDrainPolls: 30,
    });
  });

  it('refuses no runs', () => {
    expect(() => latencyResult('taskq', shape, [])).toThrow(RangeError);
  });
});
