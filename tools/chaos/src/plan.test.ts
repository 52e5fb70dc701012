import { expectedAttempts, makePlan, MAX_ATTEMPTS, RETRY_DELAY_MS, toTaskInput } from './plan';

const base = { tasks: 5000, seed: 7, failOnceShare: 0.1, failAlwaysShare: 0.05, maxMs: 20 };

describe('makePlan', () => {
  it('makes exactly the planned share of each kind, with the expected outcome of each', () => {
    const plan = makePlan(base);
    const count = (kind: string) => plan.filter((t) => t.kind === kind).length;
    expect([count('fail-once'), count('fail-always'), count('ok')]).toEqual([500, 250, 4250]);
    for (const t of plan) {
      if (t.kind === 'ok') expect(t).toMatchObject({ failAttempts: 0, expectedStatus: 'Done', expectedAttempts: 1 });
      if (t.kind === 'fail-once') expect(t).toMatchObject({ failAttempts: 1, expectedStatus: 'Done', expectedAttempts: 2 });
      if (t.kind === 'fail-always') expect(t).toMatchObject({ expectedStatus: 'Dead', expectedAttempts: MAX_ATTEMPTS });
      if (t.kind === 'fail-always') expect(t.failAttempts).toBeGreaterThan(MAX_ATTEMPTS);
    }
  });

  it('gives unique ids and durations within 0..maxMs, using the whole range', () => {
    const plan = makePlan(base);
    expect(new Set(plan.map((t) => t.id)).size).toBe(5000);
    expect(plan[0]?.id).toBe('t0001');
    expect(Math.min(...plan.map((t) => t.ms))).toBe(0);
    expect(Math.max(...plan.map((t) => t.ms))).toBe(20);
  });

  it('is the same plan for the same seed and a different one for another seed', () => {
    expect(makePlan(base)).toEqual(makePlan(base));
    const other = makePlan({ ...base, seed: 8 });
    expect(other.map((t) => t.kind)).not.toEqual(makePlan(base).map((t) => t.kind));
  });

  it('spreads the failing tasks over the whole run, not in one block', () => {
    const plan = makePlan(base);
    const firstHalf = plan.slice(0, 2500).filter((t) => t.kind === 'fail-always').length;
    expect(firstHalf).toBeGreaterThan(75);
    expect(firstHalf).toBeLessThan(175);
  });

  it('spreads the tasks over the queues given, about evenly, without changing kinds, durations or priorities', () => {
    const queues = ['c', 'd', 'l'];
    const plan = makePlan({ ...base, queues });
    const per = queues.map((q) => plan.filter((t) => t.queue === q).length);
    expect(per.reduce((a, b) => a + b)).toBe(5000);
    for (const n of per) expect(Math.abs(n - 5000 / 3)).toBeLessThan(150);
    expect(plan.map(({ queue: _queue, ...rest }) => rest)).toEqual(makePlan(base).map(({ queue: _queue, ...rest }) => rest));
    expect(new Set(makePlan(base).map((t) => t.queue))).toEqual(new Set(['chaos']));
  });

  it('rejects shares that add up to more than all tasks', () => {
    expect(() => makePlan({ ...base, failOnceShare: 0.7, failAlwaysShare: 0.4 })).toThrow(RangeError);
  });
});

describe('expectedAttempts', () => {
  it('is 1 for a task that never fails, 2 for one that fails once, maxAttempts for one that always fails', () => {
    expect([expectedAttempts('ok'), expectedAttempts('fail-once'), expectedAttempts('fail-always')]).toEqual([1, 2, 3]);
  });
});

describe('toTaskInput', () => {
  it('enqueues a sleep task with the failure count in its payload and a short fixed backoff', () => {
    const [task] = makePlan({ ...base, tasks: 1, failOnceShare: 1, failAlwaysShare: 0 });
    expect(toTaskInput(task)).toEqual({
      id: 't1',
      type: 'sleep',
      payload: { ms: task.ms, failAttempts: 1 },
      maxAttempts: 3,
      backoff: { type: 'fixed', delayMs: RETRY_DELAY_MS },
      priority: task.priority,
    });
  });

  it('gives the tasks priorities across 0-9, drawn from the seed', () => {
    const plan = makePlan({ ...base, tasks: 1000 });
    const levels = new Set(plan.map((t) => t.priority));
    expect([...levels].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(plan.map((t) => t.priority)).toEqual(makePlan({ ...base, tasks: 1000 }).map((t) => t.priority));
  });
});
