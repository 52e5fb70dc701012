import type { Redis } from 'ioredis';
import { connectRedis } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { parseArgs } from '../args';
import type { FleetResult } from '../fleet';
import type { BenchOutcome } from '../outcome';
import { ratiosOf } from '../results';
import { redisTarget } from '../systems/producer';
import { startInProcessWorker } from '../test-support/in-process-worker';
import type { StartWorker } from './cluster-drain';
import { LostTasksError, RunCheckError, type BenchContext } from './context';
import { runFleet, runFleetDrain, workersCpuMs } from './fleet';
import { idleWorkers, runIdleFleet, waitUntilIdle } from './idle-fleet';

// The fleet and idle-fleet scenarios on a real redis-server, with the workers in this process
// (the bench forks them; see test-support/in-process-worker.ts), at tiny sizes.

let server: RedisServer;
let admin: Redis;
let ctx: BenchContext;

beforeAll(async () => {
  server = await startRedisServer();
  admin = await connectRedis(server.url);
  const { plan } = parseArgs(['--scenarios', 'fleet,idle-fleet', '--fleet-n', '300', '--fleet-k', '1,2', '--repeat', '1']);
  ctx = { target: redisTarget(server.url), admin, serverPid: server.pid, plan: { ...plan, idleFleetWorkers: 3, idleFleetConcurrency: 2, idleFleetRate: 200, idleFleetMs: 500 } };
}, 30_000);

afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

/** In-process workers whose report miscounts the tasks they ran by `delta` (the first worker only). */
const miscounting = (delta: number): StartWorker => {
  let first = true;
  return async (config) => {
    const worker = await startInProcessWorker(config);
    const skew = first ? delta : 0;
    first = false;
    return { ...worker, report: async () => ({ ...(await worker.report()), handled: (await worker.report()).handled + skew }) };
  };
};

describe('runFleet', () => {
  it('drains with K = 1 (once, reported in both modes) and K = 2 in each mode, every system, with the ratios and the Redis cost per task', async () => {
    const out: BenchOutcome = { results: [], errors: [], notApplicable: [] };
    const lines: string[] = [];
    await runFleet(ctx, ['taskq', 'bullmq', 'bee-queue'], (l) => lines.push(l), out, new AbortController().signal, startInProcessWorker);
    expect(out.errors).toEqual([]);
    const results = out.results as FleetResult[];
    expect(results.map((r) => `${r.system} ${r.workers} ${r.mode} ${r.concurrency.join('+')}`).sort()).toEqual(
      ['taskq', 'bullmq', 'bee-queue']
        .flatMap((s) => [`${s} 1 same-total 50`, `${s} 1 same-per-process 50`, `${s} 2 same-total 25+25`, `${s} 2 same-per-process 50+50`])
        .sort(),
    );
    // three configurations a system, one run each: K = 1 ran once for both modes
    expect(lines.filter((l) => / run 1\/1: [\d,]+ tasks\/s/.test(l))).toHaveLength(9);
    // a fleet's line says how many tasks each process ran
    expect(lines.filter((l) => /^fleet \S+ (2 x 25|2 x 50) .*, ran \d+ \/ \d+$/.test(l))).toHaveLength(6);
    for (const r of results) {
      expect(r).toMatchObject({ bench: 'fleet', n: 300 });
      expect(r.tasksPerSec).toBeGreaterThan(0);
      expect(r.runs).toHaveLength(1);
      // a drain costs Redis commands and round trips; taskq and BullMQ run scripts, bee-queue MULTIs
      expect(r.redisCommandsPerTask).toBeGreaterThan(0.5);
      expect(r.redisReadsPerTask).toBeGreaterThan(0);
      if (r.system !== 'bee-queue') expect(r.redisScriptCallsPerTask).toBeGreaterThan(0);
      expect(r.redisUsPerTask).toBeGreaterThanOrEqual(0);
      // the workers ran in this process: no worker CPU of their own
      expect(r.workerUsPerTask).toBeUndefined();
      const ratios = ratiosOf(r, results);
      expect(ratios.ratioVsOneWorker).toBeGreaterThan(0);
      if (r.workers === 1) expect(ratios.ratioVsOneWorker).toBe(1);
      expect(ratios.ratioVsBullmq).toBeGreaterThan(0);
    }
  }, 120_000);
});

describe('workersCpuMs', () => {
  const handle = (pid: number | undefined) => ({ pid, go: async () => undefined, report: async () => ({ handled: 0, latenciesMs: [], prioritiesByQueue: {} }), stop: async () => undefined, kill: async () => undefined, assertHealthy: () => undefined });

  it("sums the processes' CPU time from /proc, and gives none when a worker has no process of its own", () => {
    if (process.platform === 'linux') {
      const before = workersCpuMs([handle(process.pid)]) ?? NaN;
      // 60 ms of this process's CPU (by its own count, whatever the load), then /proc's 10 ms ticks show at least 40 of it
      const cpuMs = (): number => (process.cpuUsage().user + process.cpuUsage().system) / 1000;
      let x = 0;
      for (const end = cpuMs() + 60; cpuMs() < end; ) x += Math.sqrt(x + 1);
      expect(x).toBeGreaterThan(0);
      expect((workersCpuMs([handle(process.pid)]) ?? NaN) - before).toBeGreaterThanOrEqual(40);
      expect(workersCpuMs([handle(process.pid), handle(process.pid)])).toBeGreaterThanOrEqual(2 * before);
    }
    expect(workersCpuMs([handle(process.pid), handle(undefined)])).toBeUndefined();
  });
});

describe('runFleetDrain', () => {
  it('calls a run whose processes ran fewer tasks than queued lost, and one that ran more a failed check', async () => {
    await expect(runFleetDrain(ctx, 'taskq', 50, [5, 5], miscounting(-1))).rejects.toThrow(LostTasksError);
    await expect(runFleetDrain(ctx, 'taskq', 50, [5, 5], miscounting(1))).rejects.toThrow(RunCheckError);
    await expect(runFleetDrain(ctx, 'taskq', 50, [5, 5], miscounting(1))).rejects.toThrow(/ran 51 \(\d+ \+ \d+\) tasks for 50: some ran more than once/);
  }, 60_000);
});

describe('idle fleet', () => {
  it('streams a warm-up second, then the measured stream, into idle processes of every system; the tasks spread over them, each run once, and the stream is costed', async () => {
    for (const system of ['taskq', 'bullmq', 'bee-queue'] as const) {
      const r = await runIdleFleet(ctx, system, startInProcessWorker);
      expect(r).toMatchObject({ bench: 'idle-fleet', system, n: 100, workers: 3, concurrency: 2, ratePerSec: 200, durationMs: 500, warmupMs: 500 });
      // the stream's tasks only: the warm-up's 100 (as long as the stream, at most 1 s) ran before and are summarized apart
      expect(r.ranPerWorker).toHaveLength(3);
      expect(r.ranPerWorker.reduce((a, b) => a + b, 0)).toBe(100);
      expect(r.warmup.p50Ms).toBeGreaterThan(0);
      expect(r.warmup.maxMs).toBeGreaterThanOrEqual(r.warmup.p99Ms);
      expect(r.warmup.p99Ms).toBeGreaterThanOrEqual(r.warmup.p50Ms);
      // each single enqueue is a script call in all three (taskq's enqueue, BullMQ's addStandardJob, bee-queue's addJob)
      expect(r.redisScriptCallsPerTask).toBeGreaterThanOrEqual(1);
      expect(r.redisCommandsPerTask).toBeGreaterThan(r.redisScriptCallsPerTask);
      // (not >= 1: enqueues a late timer tick sends together reach Redis in one read)
      expect(r.redisReadsPerTask).toBeGreaterThan(0);
      expect(r.p50Ms).toBeGreaterThan(0);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
      expect(r.sentPerSec).toBeGreaterThan(0);
      // the workers ran in this process: no worker CPU of their own
      expect(r.workerUsPerTask).toBeUndefined();
    }
  }, 120_000);

  it("counts a system's processes idle once their first fetch found nothing, and times out naming how many were", async () => {
    await admin.flushall();
    for (const system of ['taskq', 'bullmq', 'bee-queue'] as const) {
      expect(await idleWorkers(admin, system)).toBe(0);
      const workers = await Promise.all([1, 2].map(() => startInProcessWorker({ system, url: server.url, concurrency: 2, retainAtLeast: 10, recordLatency: false })));
      try {
        // connected, not started: nobody has fetched yet
        expect(await idleWorkers(admin, system)).toBe(0);
        await expect(waitUntilIdle(admin, system, 1, () => undefined, 100)).rejects.toThrow(`${system}: 0 of 1 worker process(es) idle after 100 ms`);
        await Promise.all(workers.map((w) => w.go()));
        await waitUntilIdle(admin, system, 2, () => undefined);
        expect(await idleWorkers(admin, system)).toBe(2);
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
    }
  }, 60_000);
});
