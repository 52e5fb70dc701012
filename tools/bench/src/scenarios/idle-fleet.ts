import type { Redis } from 'ioredis';
import { queueKeys } from '@taskq/queue';
import { idleFleetWarmupMs, splitFleetWarmup, type IdleFleetResult } from '../fleet';
import { warmupTasks } from '../latency-runs';
import type { SystemName } from '../names';
import { flushAll, infoField } from '../redis-admin';
import { redisCostBetween, redisCostPerTask, redisCostSnapshot } from '../redis-cost';
import { openProducer } from '../systems/open-producer';
import { QUEUE_NAME } from '../systems/producer';
import { waitForDrain } from '../wait-for-drain';
import { WorkerProcess } from '../worker-process';
import type { ClusterWorker, StartWorker } from './cluster-drain';
import { RunCheckError, type BenchContext } from './context';
import { assertRanOnce, startFleet, workersCpuMs } from './fleet';
import { steadyStream } from './latency';

/** How long the idle fleet gets to be seen idle, and how often the bench looks, ms. */
const IDLE_TIMEOUT_MS = 30_000;
const IDLE_POLL_MS = 10;

/**
 * How many of a system's worker processes on the bench's queue are idle,
 * each counted once its first fetch found nothing: taskq's pools list
 * themselves in the queue's waiters list (targeted wake; with --hand-off,
 * in its hand-off list, counted once per pool); an idle BullMQ
 * Worker blocks its blocking connection on BZPOPMIN of the queue's marker,
 * an idle bee-queue worker on BRPOPLPUSH of its waiting list (INFO clients
 * blocked_clients; the bench's producers never block).
 */
export async function idleWorkers(admin: Redis, system: SystemName): Promise<number> {
  if (system === 'taskq') {
    // a hand-off pool (--hand-off) is in the hand-off list instead, once per idle sub-worker
    const keys = queueKeys(QUEUE_NAME);
    const [listed, handOff] = await Promise.all([admin.llen(keys.waiters), admin.lrange(keys.handOffWaiters, 0, -1)]);
    return listed + new Set(handOff).size;
  }
  return Number((await infoField(admin, 'clients', 'blocked_clients')) ?? 0);
}

/** Resolves once `count` workers are idle (see idleWorkers); rejects when `healthy` throws or after the timeout. */
export async function waitUntilIdle(admin: Redis, system: SystemName, count: number, healthy: () => void, timeoutMs = IDLE_TIMEOUT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    healthy();
    const idle = await idleWorkers(admin, system);
    if (idle >= count) return;
    if (performance.now() > deadline) throw new RunCheckError(`${system}: ${idle} of ${count} worker process(es) idle after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, IDLE_POLL_MS));
  }
}

/**
 * The idle-fleet scenario for one system: `idleFleetWorkers` worker processes
 * of `idleFleetConcurrency` each, started and seen idle; a warm-up second at
 * `idleFleetRate` (idleFleetWarmupMs) whose latencies are
 * reported apart: a fleet's first tasks meet processes that have run no task
 * yet, all of them warming up at once on the same cores, and would otherwise
 * make the p99 of a 10 s stream; once every warm-up task finished and the
 * fleet is idle again, `idleFleetRate` tasks a second, one at a time, for
 * `idleFleetMs` (latency.ts steadyStream). Measured over that stream until
 * Redis shows every task finished: what Redis spent per task (INFO: CPU,
 * commands, socket reads, script calls; the producer's enqueues, the fleet's
 * fetches, acks and background work, and the bench's few progress reads), the
 * worker processes' CPU per task (/proc, where readable) and the
 * enqueue-to-start time of every task.
 * Checked: the processes together ran each task once (warm-up and stream).
 */
export async function runIdleFleet(
  ctx: BenchContext,
  system: SystemName,
  startWorker: StartWorker = (config) => WorkerProcess.start(config),
): Promise<IdleFleetResult> {
  const { idleFleetWorkers: count, idleFleetConcurrency: concurrency, idleFleetRate: rate, idleFleetMs: durationMs } = ctx.plan;
  const total = Math.max(1, Math.round((rate * durationMs) / 1000));
  const warmupMs = idleFleetWarmupMs(ctx.plan);
  const warmup = warmupTasks(rate, warmupMs);
  await flushAll(ctx.admin);
  const producer = await openProducer(system, ctx.target);
  let workers: ClusterWorker[] = [];
  try {
    workers = await startFleet(
      Array.from({ length: count }, () => ({ system, url: ctx.target.url, concurrency, retainAtLeast: warmup + total, recordLatency: true })),
      startWorker,
    );
    const ws = workers;
    const healthy = (): void => {
      for (const w of ws) w.assertHealthy();
    };
    await Promise.all(ws.map((w) => w.go()));
    await waitUntilIdle(ctx.admin, system, count, healthy);
    const w0 = performance.now();
    await steadyStream(producer, warmup, warmupMs);
    await waitForDrain(producer, warmup, w0, healthy);
    // each process's latencies so far are its warm-up tasks' (every one has started)
    const warmed = (await Promise.all(ws.map((w) => w.report()))).map((r) => r.handled);
    await waitUntilIdle(ctx.admin, system, count, healthy);
    const cpu0 = workersCpuMs(ws);
    const before = await redisCostSnapshot(ctx.admin);
    const t0 = performance.now();
    const streamMs = await steadyStream(producer, total, durationMs);
    // taskq counts finished tasks: the warm-up's are among them
    await waitForDrain(producer, warmup + total, t0, healthy);
    const after = await redisCostSnapshot(ctx.admin);
    const cpu1 = workersCpuMs(ws);
    const reports = await Promise.all(ws.map((w) => w.report()));
    assertRanOnce(system, reports.map((r) => r.handled), warmup + total);
    const split = splitFleetWarmup(reports, warmed);
    await Promise.all(ws.map((w) => w.stop()));
    workers = [];
    return {
      bench: 'idle-fleet',
      system,
      n: total,
      workers: count,
      concurrency,
      ratePerSec: rate,
      durationMs,
      warmupMs,
      sentPerSec: total / (streamMs / 1000),
      ...redisCostPerTask(redisCostBetween(before, after), total),
      p50Ms: split.run.p50Ms,
      p90Ms: split.run.p90Ms,
      p99Ms: split.run.p99Ms,
      maxMs: split.run.maxMs,
      warmup: { p50Ms: split.warmup.p50Ms, p99Ms: split.warmup.p99Ms, maxMs: split.warmup.maxMs },
      ranPerWorker: split.ranPerWorker,
      ...(cpu0 !== undefined && cpu1 !== undefined ? { workerUsPerTask: ((cpu1 - cpu0) * 1000) / total } : {}),
    };
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await producer.close();
  }
}
