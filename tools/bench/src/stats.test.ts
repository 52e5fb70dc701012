import { median, percentile, ratio, summarizeLatencies } from './stats';

describe('median', () => {
  it('takes the middle of an odd count and the mean of the two middles of an even count, in any order', () => {
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('refuses an empty list instead of reporting NaN', () => {
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('percentile (nearest rank)', () => {
  const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

  it('p99 of 10,000 samples is the 9,900th smallest and p50 the 5,000th', () => {
    expect(percentile(oneTo(10_000), 99)).toBe(9900);
    expect(percentile(oneTo(10_000), 50)).toBe(5000);
  });

  it('always returns a measured value: p99 of 10 samples is the largest, p100 the maximum', () => {
    expect(percentile(oneTo(10), 99)).toBe(10);
    expect(percentile(oneTo(10), 100)).toBe(10);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
  });

  it('rejects an empty list and a p outside (0, 100]', () => {
    expect(() => percentile([], 50)).toThrow(RangeError);
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });
});

describe('summarizeLatencies', () => {
  it('sorts numerically (not as strings) before taking percentiles', () => {
    const samples = [10, 9, 100, 2, 1, 20, 3, 30, 4, 5];
    expect(summarizeLatencies(samples)).toEqual({ count: 10, p50Ms: 5, p90Ms: 30, p99Ms: 100, maxMs: 100 });
  });
});

describe('ratio', () => {
  it('divides, and gives no ratio when a side is missing, zero or not finite', () => {
    expect(ratio(10, 4)).toBe(2.5);
    expect(ratio(undefined, 4)).toBeUndefined();
    expect(ratio(10, undefined)).toBeUndefined();
    expect(ratio(10, 0)).toBeUndefined();
    expect(ratio(Infinity, 2)).toBeUndefined();
  });
});
