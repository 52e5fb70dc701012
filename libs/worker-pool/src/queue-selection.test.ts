import { parseQueueWeights, QueuePicker, resolveQueueSelection } from './queue-selection';

describe('resolveQueueSelection', () => {
  it('one queue: `queue`, or `default`', () => {
    expect(resolveQueueSelection({ queue: 'emails' })).toEqual({ names: ['emails'], weights: [1], strict: false });
    expect(resolveQueueSelection({})).toEqual({ names: ['default'], weights: [1], strict: false });
  });

  it('weights keep the order given; strict by weight orders them highest first, ties in the order given', () => {
    expect(resolveQueueSelection({ queues: { low: 1, critical: 6, default: 3 } })).toEqual({ names: ['low', 'critical', 'default'], weights: [1, 6, 3], strict: false });
    expect(resolveQueueSelection({ queues: { low: 1, a: 3, critical: 6, b: 3 }, strict: true }).names).toEqual(['critical', 'a', 'b', 'low']);
  });

  it('a list is strict in its order (strict: false weighs them alike)', () => {
    expect(resolveQueueSelection({ queues: ['b', 'a'] })).toEqual({ names: ['b', 'a'], weights: [1, 1], strict: true });
    expect(resolveQueueSelection({ queues: ['b', 'a'], strict: false }).strict).toBe(false);
  });

  it('refuses what cannot be served, naming it', () => {
    expect(() => resolveQueueSelection({ queues: [] })).toThrow('queues must name at least one queue');
    expect(() => resolveQueueSelection({ queues: ['a', 'a'] })).toThrow('queues: a is given twice');
    expect(() => resolveQueueSelection({ queues: { a: 0 } })).toThrow('the weight of a must be a whole number from 1 to 1000000, got 0');
    expect(() => resolveQueueSelection({ queues: { a: 1.5 } })).toThrow('got 1.5');
    expect(() => resolveQueueSelection({ queues: { 'a b': 1 } })).toThrow(/invalid queue name/);
    expect(() => resolveQueueSelection({ queue: 'c', queues: { a: 1 } })).toThrow('queue c is not one of queues (a): give one or the other');
    expect(() => resolveQueueSelection({ strict: true })).toThrow('strict applies to several queues');
    // `queue` among them is fine (a container always gives one)
    expect(resolveQueueSelection({ queue: 'a', queues: { b: 1, a: 2 } }).names).toEqual(['b', 'a']);
  });
});

describe('parseQueueWeights (--queues)', () => {
  it('name:weight pairs; a name without a weight weighs 1; a name may hold colons', () => {
    expect(parseQueueWeights('critical:6,default:3,low:1')).toEqual({ critical: 6, default: 3, low: 1 });
    expect(parseQueueWeights('a, b:2')).toEqual({ a: 1, b: 2 });
    expect(parseQueueWeights('app:emails:4,app:sms')).toEqual({ 'app:emails': 4, 'app:sms': 1 });
  });

  it('refuses empty entries, missing weights, duplicates and bad weights', () => {
    expect(() => parseQueueWeights('a,,b')).toThrow('--queues: an empty entry in "a,,b"');
    expect(() => parseQueueWeights('a:')).toThrow('"a:" has no weight after the colon');
    expect(() => parseQueueWeights('a:1,a:2')).toThrow('--queues: a is given twice');
    expect(() => parseQueueWeights('a:0')).toThrow('the weight of a must be a whole number from 1 to 1000000, got 0');
  });
});

describe('QueuePicker', () => {
  it('weighted: 10,000 picks among queues with room follow the weights exactly', () => {
    const picker = new QueuePicker(resolveQueueSelection({ queues: { critical: 6, default: 3, low: 1 } }));
    const totals = [0, 0, 0];
    for (let round = 0; round < 2500; round++) {
      const got = picker.split(4, [4, 4, 4]);
      got.forEach((n, i) => (totals[i] += n));
    }
    // 1,000 whole rounds of the weights' sum (10)
    expect(totals).toEqual([6000, 3000, 1000]);
  });

  it('weighted: interleaves rather than bursts (a weight of 1 in 10 gets one pick in every 10)', () => {
    const picker = new QueuePicker(resolveQueueSelection({ queues: { a: 6, b: 3, c: 1 } }));
    const picks: number[] = [];
    for (let k = 0; k < 20; k++) picks.push(picker.split(1, [1, 1, 1]).indexOf(1));
    expect(picks.filter((i) => i === 2)).toHaveLength(2);
    expect(picks.slice(0, 10).filter((i) => i === 2)).toHaveLength(1);
    expect(picks.filter((i) => i === 0)).toHaveLength(12);
  });

  it('weighted: a queue without room is skipped and the others share by their weights', () => {
    const picker = new QueuePicker(resolveQueueSelection({ queues: { a: 6, b: 3, c: 1 } }));
    const totals = [0, 0, 0];
    for (let round = 0; round < 1000; round++) picker.split(4, [0, 4, 4]).forEach((n, i) => (totals[i] += n));
    expect(totals).toEqual([0, 3000, 1000]);
  });

  it('room caps what a queue gets; fewer picks when all are full', () => {
    const picker = new QueuePicker(resolveQueueSelection({ queues: { a: 6, b: 3 } }));
    expect(picker.split(8, [1, 2])).toEqual([1, 2]);
    expect(picker.split(3, [0, 0])).toEqual([0, 0]);
  });

  it('strict: the first queue with room takes all it can, then the next', () => {
    const picker = new QueuePicker(resolveQueueSelection({ queues: ['a', 'b', 'c'] }));
    expect(picker.split(4, [4, 4, 4])).toEqual([4, 0, 0]);
    expect(picker.split(4, [1, 4, 4])).toEqual([1, 3, 0]);
    expect(picker.split(4, [0, 0, 4])).toEqual([0, 0, 4]);
  });
});
