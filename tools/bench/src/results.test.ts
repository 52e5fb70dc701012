import { headline, jsonRecord, ratiosOf, redisCostFields } from './results';
import { cluster, latency, memory, redisCost, replicaDown, replicasUp, tput } from './test-support/results';

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

describe('Redis cost per task', () => {
  const perTask = (us: number, commands = 2, reads = 0.1, scripts = 0.05) => ({
    redisUsPerTask: us,
    redisCommandsPerTask: commands,
    redisReadsPerTask: reads,
    redisScriptCallsPerTask: scripts,
  });

  it("gives a drain the median of each figure over its runs, the tasks/s per Redis core and the polls' median", () => {
    const fields = redisCostFields('drain', [
      { tasksPerSec: 1, redisCost: perTask(20, 3), polls: 40 },
      { tasksPerSec: 1, redisCost: perTask(8, 4), polls: 30 },
      { tasksPerSec: 1, redisCost: perTask(10, 2), polls: 50 },
    ]);
    expect(fields).toEqual({
      redisUsPerTask: 10,
      redisCommandsPerTask: 3,
      redisReadsPerTask: 0.1,
      redisScriptCallsPerTask: 0.05,
      runsRedisUsPerTask: [20, 8, 10],
      tasksPerSecPerRedisCore: 100_000,
      waitForDrainPolls: 40,
    });
  });

  it('gives an enqueue no Redis core rate and no polls, and the other scenarios nothing', () => {
    const fields = redisCostFields('enqueue', [{ tasksPerSec: 1, redisCost: perTask(4) }]);
    expect(fields).toEqual({ redisUsPerTask: 4, redisCommandsPerTask: 2, redisReadsPerTask: 0.1, redisScriptCallsPerTask: 0.05, runsRedisUsPerTask: [4] });
    expect(redisCostFields('scale', [{ tasksPerSec: 1, redisCost: perTask(4), polls: 3 }])).toEqual({});
    expect(redisCostFields('weighted', [{ tasksPerSec: 1 }])).toEqual({});
  });

  it('reports no cost unless every run measured it', () => {
    expect(redisCostFields('drain', [{ tasksPerSec: 1, redisCost: perTask(4) }, { tasksPerSec: 1 }])).toEqual({});
  });

  it('compares Redis µs per task with each peer in drain, enqueue and latency, lower being better', () => {
    const all = [
      tput('drain', 'taskq', 50_000, 50_000, redisCost(10, 2, 0.1, 0.05)),
      tput('drain', 'bullmq', 10_000, 50_000, redisCost(50, 20, 3, 2)),
      tput('drain', 'bee-queue', 15_000, 50_000, redisCost(40, 10, 2, 1)),
      latency('taskq', 1, 0.3, 3, redisCost(30, 6, 2, 1)),
      latency('bullmq', 2, 0.5, 6, redisCost(60, 12, 4, 2)),
    ];
    expect(ratiosOf(all[0], all)).toEqual({ ratioVsBullmq: 5, ratioVsBeeQueue: expect.closeTo(3.333, 3) as number, redisUsRatioVsBullmq: 0.2, redisUsRatioVsBeeQueue: 0.25 });
    expect(ratiosOf(all[3], all)).toMatchObject({ ratioVsBullmq: 0.5, redisUsRatioVsBullmq: 0.5 });
    expect(ratiosOf(all[3], all).redisUsRatioVsBeeQueue).toBeUndefined();
  });

  it('gives no Redis ratio where a side was not measured, nor to the cluster scenario (its redisUsPerTask is from /proc)', () => {
    const all = [tput('drain', 'taskq', 50_000, 50_000, redisCost(10, 2, 0.1, 0.05)), tput('drain', 'bullmq', 10_000)];
    expect(ratiosOf(all[0], all).redisUsRatioVsBullmq).toBeUndefined();
    const layout = [cluster('taskq', '1-node-1-queue', 60_000, { redisUsPerTask: 10 }), cluster('bullmq', '1-node-1-queue', 20_000, { redisUsPerTask: 40 })];
    expect(ratiosOf(layout[0], layout)).not.toHaveProperty('redisUsRatioVsBullmq');
  });

  it("writes a latency result's runs, its warm-up (rounded) and its Redis figures in its JSON record", () => {
    const taskq = { ...latency('taskq', 1.23456, 0.3, 4.56789, redisCost(30.1234, 6, 2, 1)), runsP99Ms: [1.5, 1.23456, 1.1], waitForDrainPolls: 12 };
    const bullmq = latency('bullmq', 2.5, 0.5, 6, redisCost(60.2468, 12, 4, 2));
    expect(jsonRecord(taskq, [taskq, bullmq])).toEqual({
      bench: 'latency',
      system: 'taskq',
      n: 10_000,
      ratePerSec: 1000,
      durationMs: 10_000,
      sentPerSec: 1000,
      p50Ms: 0.3,
      p90Ms: 0.617,
      p99Ms: 1.235,
      maxMs: 2.469,
      runsP99Ms: [1.5, 1.235, 1.1],
      warmupMs: 1000,
      warmup: { p50Ms: 0.3, p99Ms: 4.568, maxMs: 9.136 },
      redisUsPerTask: 30.12,
      redisCommandsPerTask: 6,
      redisReadsPerTask: 2,
      redisScriptCallsPerTask: 1,
      runsRedisUsPerTask: [30.12],
      waitForDrainPolls: 12,
      ratioVsBullmq: 0.494,
      redisUsRatioVsBullmq: 0.5,
    });
  });
});
