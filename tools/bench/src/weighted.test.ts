import { notApplicable } from './names';
import {
  bullmqPriority,
  priorityOf,
  priorityOrderProblem,
  splitByWeights,
  splitConcurrency,
  WEIGHTED_QUEUES,
  weightedPayloads,
  weightedRunProblems,
} from './weighted';

describe('splitByWeights', () => {
  it('splits the tasks 60 / 30 / 10 % by the queues weights, summing to the total', () => {
    const weights = WEIGHTED_QUEUES.map((q) => q.weight);
    expect(weights).toEqual([6, 3, 1]);
    expect(splitByWeights(50_000, weights)).toEqual([30_000, 15_000, 5000]);
    expect(splitByWeights(2000, weights)).toEqual([1200, 600, 200]);
  });

  it('hands the remainder to the largest fractions, ties to the earlier weight', () => {
    expect(splitByWeights(7, [6, 3, 1])).toEqual([4, 2, 1]); // 4.2, 2.1, 0.7
    expect(splitByWeights(2, [1, 1, 1])).toEqual([1, 1, 0]);
    for (const total of [0, 1, 9, 101, 12_345]) expect(splitByWeights(total, [6, 3, 1]).reduce((a, b) => a + b, 0)).toBe(total);
  });

  it('refuses a bad total or weights', () => {
    expect(() => splitByWeights(-1, [1])).toThrow(RangeError);
    expect(() => splitByWeights(1.5, [1])).toThrow(RangeError);
    expect(() => splitByWeights(10, [])).toThrow(RangeError);
    expect(() => splitByWeights(10, [1, 0])).toThrow(RangeError);
  });
});

describe('splitConcurrency', () => {
  it('gives BullMQ 30 / 15 / 5 sub-workers of 50 by 6:3:1', () => {
    expect(splitConcurrency(50, [6, 3, 1])).toEqual([30, 15, 5]);
  });

  it('gives every queue at least one sub-worker, and needs one per queue', () => {
    // exact 3, 2, 0 (3, 1.5, 0.5): low would get none; so one each, and the other 2 by weight (1.2, 0.6, 0.2 -> 1, 1, 0)
    expect(splitConcurrency(5, [6, 3, 1])).toEqual([2, 2, 1]);
    expect(splitConcurrency(3, [6, 3, 1])).toEqual([1, 1, 1]);
    expect(() => splitConcurrency(2, [6, 3, 1])).toThrow(/cannot give each of 3 queues/);
  });
});

describe('priorityOf', () => {
  const many = Array.from({ length: 10_000 }, (_, i) => priorityOf(i));

  it('is a whole number 0-9, the same for the same task every time', () => {
    expect(many.every((p) => Number.isInteger(p) && p >= 0 && p <= 9)).toBe(true);
    expect(Array.from({ length: 10_000 }, (_, i) => priorityOf(i))).toEqual(many);
    expect(priorityOf(3, 1)).toBe(priorityOf(3, 1));
  });

  it('spreads evenly over the ten levels (each 10 % +- 1.5 over 10,000 tasks)', () => {
    const counts = Array.from({ length: 10 }, (_, p) => many.filter((x) => x === p).length);
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('is in no order: neighbours differ most of the time, and another seed gives other priorities', () => {
    const same = many.slice(1).filter((p, i) => p === many[i]).length;
    expect(same).toBeLessThan(1300); // 10 % expected by chance
    const other = Array.from({ length: 1000 }, (_, i) => priorityOf(i, 12_345));
    expect(other.filter((p, i) => p === many[i]).length).toBeLessThan(150);
  });
});

describe('bullmqPriority', () => {
  it("maps taskq's 9 (highest) to BullMQ's 1 (highest) and 0 to 10: every job prioritized, the order kept", () => {
    expect(bullmqPriority(9)).toBe(1);
    expect(bullmqPriority(5)).toBe(5);
    expect(bullmqPriority(0)).toBe(10);
    const mapped = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(bullmqPriority);
    // BullMQ: 0 would mean "no priority" (ahead of every prioritized job); lower runs first
    expect(mapped.every((p) => p >= 1)).toBe(true);
    expect([...mapped].sort((a, b) => b - a)).toEqual(mapped);
  });

  it('refuses what is not a taskq priority', () => {
    for (const bad of [-1, 10, 2.5, Number.NaN]) expect(() => bullmqPriority(bad)).toThrow(RangeError);
  });
});

describe('weightedPayloads', () => {
  it('numbers the tasks from `from`, names the queue and carries each task its priority', () => {
    const ps = weightedPayloads('low', 3, 10, 1234);
    expect(ps).toEqual([10, 11, 12].map((i) => ({ i, t: 1234, tag: 'bench', q: 'low', p: priorityOf(i) })));
  });
});

describe('priorityOrderProblem', () => {
  const drawn = Array.from({ length: 1000 }, (_, i) => priorityOf(i));

  it('accepts tasks run highest priority first, with a little jitter', () => {
    const sorted = [...drawn].sort((a, b) => b - a);
    expect(priorityOrderProblem(sorted)).toBeUndefined();
    // batches of 25 run in any order within the batch
    const jittered = sorted.map((p, i, all) => all[i - (i % 25) + (24 - (i % 25))] ?? p);
    expect(priorityOrderProblem(jittered)).toBeUndefined();
  });

  it('flags tasks run in enqueue order or lowest first', () => {
    expect(priorityOrderProblem(drawn)).toMatch(/priorities not honoured: mean priority \d\.\d\d in the first quarter of 1000 tasks run/);
    expect(priorityOrderProblem([...drawn].sort((a, b) => a - b))).toMatch(/not honoured/);
  });

  it('does not judge fewer than 40 tasks', () => {
    expect(priorityOrderProblem([0, 0, 9, 9])).toBeUndefined();
  });
});

describe('weightedRunProblems', () => {
  const sortedRun = (n: number): number[] => Array.from({ length: n }, (_, i) => priorityOf(i)).sort((a, b) => b - a);
  const expected = new Map([
    ['critical', 120],
    ['default', 60],
    ['low', 20],
  ]);

  it('is empty when every queue ran all its tasks, highest first', () => {
    expect(weightedRunProblems(expected, { critical: sortedRun(120), default: sortedRun(60), low: sortedRun(20) })).toEqual([]);
  });

  it('names a queue that ran fewer or more tasks than it was given, or none at all', () => {
    expect(weightedRunProblems(expected, { critical: sortedRun(120), default: sortedRun(59), low: sortedRun(21) })).toEqual([
      'queue default: the worker ran 59 of 60 task(s)',
      'queue low: the worker ran 21 of 20 task(s)',
    ]);
    expect(weightedRunProblems(expected, { critical: sortedRun(120), default: sortedRun(60) })).toEqual(['queue low: the worker ran 0 of 20 task(s)']);
  });

  it("names a queue whose priorities were not honoured, and a queue that is not one of the scenario's", () => {
    const fifo = Array.from({ length: 120 }, (_, i) => priorityOf(i));
    const problems = weightedRunProblems(expected, { critical: fifo, default: sortedRun(60), low: sortedRun(20), bench: [5] });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^queue critical: priorities not honoured/);
    expect(problems[1]).toBe("queue bench: not one of the scenario's queues");
  });
});

describe('notApplicable', () => {
  it('reports bee-queue (no priorities) as not applicable to the weighted scenario, and nothing else', () => {
    expect(notApplicable('weighted', 'bee-queue')).toMatch(/no job priorities/);
    expect(notApplicable('weighted', 'taskq')).toBeUndefined();
    expect(notApplicable('weighted', 'bullmq')).toBeUndefined();
    expect(notApplicable('drain', 'bee-queue')).toBeUndefined();
  });
});
