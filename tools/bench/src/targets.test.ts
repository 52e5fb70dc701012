import { evaluateTargets, TARGETS, verdictLine, type Target } from './targets';
import { fleet, idleFleet } from './test-support/fleet-results';
import { latency, memory, redisCost, tput, type BenchResult } from './test-support/results';

const verdictOf = (bench: Target['bench'], results: BenchResult[], metric?: Target['metric']) => {
  const v = evaluateTargets(results).find((x) => x.target.bench === bench && x.target.metric === metric);
  if (!v) throw new Error(`no target for ${bench}`);
  return v;
};

describe('evaluateTargets', () => {
  it('passes drain at exactly 5 x BullMQ and fails just below', () => {
    expect(verdictOf('drain', [tput('drain', 'taskq', 50_000), tput('drain', 'bullmq', 10_000)])).toMatchObject({ ratio: 5, pass: true });
    expect(verdictOf('drain', [tput('drain', 'taskq', 49_990), tput('drain', 'bullmq', 10_000)]).pass).toBe(false);
  });

  it('judges enqueue against BullMQ, never against bee-queue', () => {
    const results = [tput('enqueue', 'taskq', 60_000), tput('enqueue', 'bullmq', 10_000), tput('enqueue', 'bee-queue', 100_000)];
    expect(verdictOf('enqueue', results)).toMatchObject({ ratio: 6, pass: true });
  });

  it('wants latency p99 and memory at most half of BullMQ (lower is better)', () => {
    expect(verdictOf('latency', [latency('taskq', 2), latency('bullmq', 5)])).toMatchObject({ ratio: 0.4, pass: true });
    expect(verdictOf('latency', [latency('taskq', 3), latency('bullmq', 5)]).pass).toBe(false);
    expect(verdictOf('memory', [memory('taskq', 100), memory('bullmq', 400)])).toMatchObject({ ratio: 0.25, pass: true });
    expect(verdictOf('memory', [memory('taskq', 300), memory('bullmq', 400)]).pass).toBe(false);
  });

  it('judges latency on p99, not p50', () => {
    expect(verdictOf('latency', [latency('taskq', 10, 0.1), latency('bullmq', 10, 5)])).toMatchObject({ ratio: 1, pass: false });
  });

  it('compares scale at the largest N with the next smaller N, whatever order the results came in', () => {
    const results = [tput('scale', 'taskq', 9000, 1_000_000), tput('scale', 'taskq', 2000, 10_000), tput('scale', 'taskq', 10_000, 100_000)];
    expect(verdictOf('scale', results)).toMatchObject({ ratio: 0.9, pass: true });
    const slower = [tput('scale', 'taskq', 7900, 1_000_000), tput('scale', 'taskq', 10_000, 100_000)];
    expect(verdictOf('scale', slower).pass).toBe(false);
  });

  it('leaves a target unjudged when taskq or BullMQ did not report, or scale ran one size', () => {
    expect(verdictOf('drain', [tput('drain', 'taskq', 50_000)])).toMatchObject({ ratio: undefined, pass: undefined });
    expect(verdictOf('drain', [tput('drain', 'bullmq', 50_000)]).pass).toBeUndefined();
    expect(verdictOf('scale', [tput('scale', 'taskq', 1, 100)]).pass).toBeUndefined();
  });

  it("wants the drain's Redis CPU per task at most 0.2 x BullMQ's, whatever the tasks/s", () => {
    const drain = (system: 'taskq' | 'bullmq', tasksPerSec: number, us: number) => tput('drain', system, tasksPerSec, 50_000, redisCost(us, 1, 0.1, 0.1));
    expect(verdictOf('drain', [drain('taskq', 10_000, 10), drain('bullmq', 50_000, 50)], 'redisUsPerTask')).toMatchObject({ ratio: 0.2, pass: true });
    expect(verdictOf('drain', [drain('taskq', 90_000, 11), drain('bullmq', 10_000, 50)], 'redisUsPerTask')).toMatchObject({ ratio: 0.22, pass: false });
    // the tasks/s target is judged apart
    expect(verdictOf('drain', [drain('taskq', 90_000, 11), drain('bullmq', 10_000, 50)])).toMatchObject({ ratio: 9, pass: true });
  });

  it("leaves the Redis CPU target unjudged when BullMQ's cost was not measured", () => {
    const results = [tput('drain', 'taskq', 10_000, 50_000, redisCost(10, 1, 0.1, 0.1)), tput('drain', 'bullmq', 10_000)];
    expect(verdictOf('drain', results, 'redisUsPerTask')).toMatchObject({ ratio: undefined, pass: undefined });
    expect(verdictLine(verdictOf('drain', results, 'redisUsPerTask'), false)).toBe('n/a  drain Redis CPU per task <= 0.2 x BullMQ (not measured in this run)');
  });

  it('judges the fleet drain at K=2 and K=4 against BullMQ at the same K, in the same-per-process mode only', () => {
    const results = [
      fleet('taskq', 2, 'same-per-process', 50_000),
      fleet('bullmq', 2, 'same-per-process', 10_000),
      fleet('taskq', 2, 'same-total', 10_000),
      fleet('bullmq', 2, 'same-total', 10_000),
      fleet('taskq', 4, 'same-per-process', 40_000),
      fleet('bullmq', 4, 'same-per-process', 10_000),
      fleet('taskq', 4, 'same-total', 90_000),
      fleet('bullmq', 4, 'same-total', 10_000),
    ];
    const [k2, k4] = evaluateTargets(results).filter((v) => v.target.bench === 'fleet');
    expect(k2).toMatchObject({ ratio: 5, pass: true });
    expect(k2?.target.label).toBe('fleet drain at K=2 >= 5 x BullMQ');
    expect(k4).toMatchObject({ ratio: 4, pass: false });
    expect(k4?.target.label).toBe('fleet drain at K=4 >= 5 x BullMQ');
    // a fleet run without K=4 leaves that target unjudged
    expect(evaluateTargets(results.slice(0, 4)).filter((v) => v.target.bench === 'fleet').map((v) => v.pass)).toEqual([true, undefined]);
  });

  it("judges the idle fleet on taskq's script calls per task, an absolute figure, not a ratio", () => {
    expect(verdictOf('idle-fleet', [idleFleet('taskq', 1.5), idleFleet('bullmq', 0.1)])).toMatchObject({ ratio: 1.5, pass: true });
    expect(verdictOf('idle-fleet', [idleFleet('taskq', 1.51)])).toMatchObject({ ratio: 1.51, pass: false });
    expect(verdictOf('idle-fleet', [idleFleet('bullmq', 1)])).toMatchObject({ ratio: undefined, pass: undefined });
    expect(verdictLine(verdictOf('idle-fleet', [idleFleet('taskq', 2.25)]), false)).toBe('FAIL idle fleet: taskq <= 1.5 script calls per task: measured 2.25');
  });

  it('has the targets of the issues: one per scenario, the drain\'s Redis CPU, and two for the fleet (K=2 and K=4)', () => {
    expect(TARGETS.map((t) => `${t.bench}${t.metric ? ` ${t.metric}` : ''}`).sort()).toEqual(['drain', 'drain redisUsPerTask', 'enqueue', 'fleet', 'fleet', 'idle-fleet', 'latency', 'memory', 'scale']);
  });
});

describe('verdictLine', () => {
  const [drain] = evaluateTargets([tput('drain', 'taskq', 20_000), tput('drain', 'bullmq', 10_000)]);

  it('prints FAIL with the measured ratio in a full run', () => {
    expect(verdictLine(drain, false)).toBe('FAIL drain >= 5 x BullMQ: measured 2.00');
  });

  it('prints the ratio without a verdict in a smoke run', () => {
    const line = verdictLine(drain, true);
    expect(line).not.toMatch(/PASS|FAIL/);
    expect(line).toContain('measured 2.00 (smoke run: not judged)');
  });

  it('says n/a when the ratio was not measured', () => {
    const [unmeasured] = evaluateTargets([]);
    expect(verdictLine(unmeasured, false)).toMatch(/^n\/a {2}drain/);
  });
});
