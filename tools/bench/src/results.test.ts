import { headline, jsonRecord, ratiosOf } from './results';
import { cluster, latency, memory, replicaDown, replicasUp, tput } from './test-support/results';

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

describe('ratiosOf in the cluster scenario', () => {
  const all = [
    cluster('taskq', '1-node-1-queue', 60_000),
    cluster('bullmq', '1-node-1-queue', 20_000),
    cluster('taskq', '3-masters-3-queues', 45_000),
    cluster('bullmq', '3-masters-3-queues', 30_000),
  ];

  it('compares systems within one layout, and each layout with the same system on 1 node with 1 queue', () => {
    expect(ratiosOf(all[2], all)).toEqual({ ratioVsBullmq: 1.5, ratioVsBeeQueue: undefined, ratioVsOneNode: 0.75 });
    expect(ratiosOf(all[3], all)).toEqual({ ratioVsBullmq: 1, ratioVsBeeQueue: undefined, ratioVsOneNode: 1.5 });
    expect(ratiosOf(all[0], all).ratioVsOneNode).toBe(1);
  });

  it('has no layout ratio when the baseline failed', () => {
    expect(ratiosOf(all[2], all.slice(1)).ratioVsOneNode).toBeUndefined();
  });

  it('writes the layout, the CPU figures and the ratios in its JSON record', () => {
    const rec = cluster('taskq', '3-masters-3-queues', 45_000, { redisUsPerTask: 12.3456, workerUsPerTask: 8, benchUsPerTask: 0.5, coresBusy: 1.23456 });
    expect(jsonRecord(rec, [all[0], rec])).toEqual({
      bench: 'cluster',
      system: 'taskq',
      n: 50_000,
      layout: '3-masters-3-queues',
      queues: 3,
      tasksPerSec: 45_000,
      usPerTask: 22.22,
      runs: [45_000],
      redisUsPerTask: 12.35,
      workerUsPerTask: 8,
      benchUsPerTask: 0.5,
      coresBusy: 1.235,
      ratioVsOneNode: 0.75,
    });
  });
});

describe('ratiosOf in the replicas scenario', () => {
  const off = replicasUp('off', 0.4, 2, 60_000);
  const wait = replicasUp('wait-1', 0.6, 3, 30_000);
  const down = replicaDown(100.4, 101);

  it('compares { replicas: 1 } with the same system without the WAIT, figure by figure, and no peer', () => {
    const r = ratiosOf(wait, [off, wait, down]);
    expect(r).toEqual({ p50VsOff: expect.closeTo(1.5, 10) as number, p99VsOff: 1.5, batchVsOff: 0.5, p50AddedMs: expect.closeTo(0.2, 10) as number });
  });

  it('gives the baseline and the replica-down figures no ratio, and none without the baseline', () => {
    expect(ratiosOf(off, [off, wait, down])).toEqual({});
    expect(ratiosOf(down, [off, wait, down])).toEqual({});
    expect(ratiosOf(wait, [wait])).toEqual({});
  });

  it('has the median enqueue as headline, lower being better', () => {
    expect(headline(down)).toEqual({ metric: 'p50Ms', value: 100.4, higherIsBetter: false });
  });

  it('writes the mode, the option, every run and the ratios in its JSON record', () => {
    expect(jsonRecord(wait, [off, wait])).toEqual({
      bench: 'replicas',
      system: 'taskq',
      n: 10_000,
      mode: 'wait-1',
      waitForReplicas: { replicas: 1 },
      batch: 100,
      p50Ms: 0.6,
      p99Ms: 3,
      batchTasksPerSec: 30_000,
      runsP50Ms: [0.6],
      runsP99Ms: [3],
      runsBatchTasksPerSec: [30_000],
      p50VsOff: 1.5,
      p99VsOff: 1.5,
      batchVsOff: 0.5,
      p50AddedMs: 0.2,
    });
    expect(jsonRecord(down, [off, wait, down])).toEqual({
      bench: 'replicas',
      system: 'taskq',
      n: 100,
      mode: 'replica-down',
      waitForReplicas: { replicas: 1, timeoutMs: 50 },
      p50Ms: 100.4,
      p99Ms: 101,
      minMs: 50.2,
      maxMs: 101,
      rejected: 100,
    });
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
