import { headline, jsonRecord, ratiosOf } from './results';
import { latency, memory, tput } from './test-support/results';

describe('ratiosOf', () => {
  it('gives every system its headline against BullMQ and bee-queue in the same scenario', () => {
    const all = [tput('drain', 'taskq', 30_000), tput('drain', 'bullmq', 10_000), tput('drain', 'bee-queue', 15_000), tput('enqueue', 'bullmq', 1)];
    expect(ratiosOf(all[0], all)).toEqual({ ratioVsBullmq: 3, ratioVsBeeQueue: 2 });
    expect(ratiosOf(all[2], all)).toEqual({ ratioVsBullmq: 1.5, ratioVsBeeQueue: 1 });
  });

  it('uses p99 for latency and bytes per task for memory', () => {
    expect(headline(latency('taskq', 4, 1))).toEqual({ metric: 'p99Ms', value: 4, higherIsBetter: false });
    const mem = [memory('taskq', 100), memory('bullmq', 400)];
    expect(ratiosOf(mem[0], mem).ratioVsBullmq).toBe(0.25);
  });

  it('has no peer ratio when the peer did not run', () => {
    expect(ratiosOf(tput('drain', 'taskq', 1), [tput('drain', 'taskq', 1)])).toEqual({ ratioVsBullmq: undefined, ratioVsBeeQueue: undefined });
  });

  it('compares a scale size with the next smaller one only', () => {
    const all = [tput('scale', 'taskq', 100, 10), tput('scale', 'taskq', 80, 100), tput('scale', 'taskq', 60, 1000)];
    expect(ratiosOf(all[2], all).ratioVsSmaller).toBe(0.75);
    expect(ratiosOf(all[0], all).ratioVsSmaller).toBeUndefined();
  });
});

describe('jsonRecord', () => {
  it('adds the ratios, rounds the numbers and drops missing ratios', () => {
    const all = [tput('drain', 'taskq', 33_333.333), tput('drain', 'bullmq', 10_000)];
    const record = jsonRecord(all[0], all);
    expect(record).toEqual({
      bench: 'drain',
      system: 'taskq',
      n: 50_000,
      tasksPerSec: 33_333,
      usPerTask: 30,
      runs: [33_333],
      ratioVsBullmq: 3.333,
    });
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });
});
