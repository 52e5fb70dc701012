import type { Redis } from 'ioredis';
import { connectRedis, NotReplicatedError, Queue, queueKeys } from '@taskq/queue';
import type { SystemName } from '../names';
import { errorMessage, formatInt, type BenchOutcome, type Progress } from '../outcome';
import { payload, payloads } from '../payload';
import {
  batchBounds,
  REPLICA_DOWN,
  REPLICAS_BATCH,
  REPLICAS_MODES,
  REPLICAS_WARMUP,
  runFigures,
  summarizeDown,
  summarizeRuns,
  type DownOutcome,
  type DownSummary,
  type ReplicasMode,
  type ReplicasRun,
  type ReplicasRunFigures,
  type WaitOption,
} from '../replicas';
import { QUEUE_NAME, TASK_TYPE } from '../systems/producer';
import { LostTasksError, RunCheckError, type BenchContext } from './context';
import { startReplicaRig, type ReplicaRig } from './replicas-rig';

/** How long the replica may take to apply a FLUSHALL before a run, ms. */
const FLUSH_WAIT_MS = 5000;

/** Tasks queued in the bench queue: the ready list plus the prioritized set (every task here has the default priority). */
async function queued(redis: Redis): Promise<number> {
  const k = queueKeys(QUEUE_NAME);
  const reply = await redis.pipeline().llen(k.ready).zcard(k.prioritized).exec();
  return (reply ?? []).reduce((sum, [err, value]) => {
    if (err) throw err;
    return sum + Number(value);
  }, 0);
}

/** FLUSHALL on the master; with the replica up, also waits until the replica has applied it (WAIT 1). */
async function flush(rig: ReplicaRig, replicaUp: boolean): Promise<void> {
  await rig.master.flushall('SYNC');
  if (replicaUp && (await rig.master.wait(1, FLUSH_WAIT_MS)) < 1) throw new Error(`the replica did not confirm the FLUSHALL within ${FLUSH_WAIT_MS} ms`);
}

/** A producer on its own connection to the master: taskq's Queue with this `waitForReplicas`. */
async function openQueue(rig: ReplicaRig, waitForReplicas: WaitOption | undefined): Promise<{ queue: Queue; redis: Redis }> {
  const redis = await connectRedis(rig.target.url, { connectionName: 'bench-replicas-producer' });
  return { queue: new Queue({ queue: QUEUE_NAME, connection: redis, waitForReplicas }), redis };
}

/** Throws unless the master (and, when the mode waited for it, the replica at once) holds `n` queued tasks. */
async function checkQueued(rig: ReplicaRig, mode: ReplicasMode, n: number, what: string): Promise<void> {
  const onMaster = await queued(rig.master);
  if (onMaster !== n) throw new LostTasksError(`${what}: ${onMaster} of ${n} task(s) queued on the master`);
  if (mode.waitForReplicas === undefined) return;
  // every enqueue resolved only once the replica confirmed it: it must have them all already
  const onReplica = await queued(rig.replica);
  if (onReplica !== n) throw new RunCheckError(`${what} with ${mode.label}: the replica has ${onReplica} of ${n} task(s) right after the last enqueue resolved`);
}

/**
 * One run of one mode with the replica up, each part on an empty server (the
 * replica emptied too): `n` single enqueues awaited one after another, each
 * timed; then `n` tasks through enqueueMany in batches of REPLICAS_BATCH,
 * awaited one after another, timed as a whole.
 */
export async function runReplicasUp(rig: ReplicaRig, mode: ReplicasMode, n: number): Promise<ReplicasRun> {
  const { queue, redis } = await openQueue(rig, mode.waitForReplicas);
  try {
    await flush(rig, true);
    const singleMs = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const input = { type: TASK_TYPE, payload: payload(i) };
      const t0 = performance.now();
      await queue.enqueue(input);
      singleMs[i] = performance.now() - t0;
    }
    await checkQueued(rig, mode, n, 'one enqueue at a time');

    await flush(rig, true);
    const batches = batchBounds(n).map(([from, to]) => payloads(to - from, from).map((p) => ({ type: TASK_TYPE, payload: p })));
    const t0 = performance.now();
    for (const batch of batches) await queue.enqueueMany(batch);
    const batchMs = performance.now() - t0;
    await checkQueued(rig, mode, n, `enqueueMany by ${REPLICAS_BATCH}`);
    return { singleMs, batchTasksPerSec: n / (batchMs / 1000) };
  } finally {
    await redis.quit();
  }
}

/**
 * With the replica stopped: `n` single enqueues with REPLICA_DOWN's option
 * (`{ replicas: 1, timeoutMs: 50 }`), one after another; ms until each
 * settled. Every one must reject with NotReplicatedError (0 replicas), and
 * every task must still be queued on the master.
 */
export async function runReplicaDown(rig: ReplicaRig, n: number): Promise<DownSummary> {
  const { queue, redis } = await openQueue(rig, REPLICA_DOWN.waitForReplicas);
  try {
    await flush(rig, false);
    const outcomes: DownOutcome[] = [];
    for (let i = 0; i < n; i++) {
      const input = { type: TASK_TYPE, payload: payload(i) };
      const t0 = performance.now();
      try {
        await queue.enqueue(input);
        outcomes.push({ ms: performance.now() - t0, notReplicated: false });
      } catch (err) {
        const ms = performance.now() - t0;
        outcomes.push(err instanceof NotReplicatedError ? { ms, notReplicated: true, confirmed: err.replicas } : { ms, notReplicated: false, error: errorMessage(err) });
      }
    }
    const summary = summarizeDown(outcomes);
    const onMaster = await queued(rig.master);
    if (onMaster !== n) throw new LostTasksError(`replica stopped: ${onMaster} of ${n} refused task(s) queued on the master (they should stay queued)`);
    return summary;
  } finally {
    await redis.quit();
  }
}

const ms = (v: number): string => v.toFixed(2);
const upText = (f: ReplicasRunFigures): string =>
  `one at a time p50 ${ms(f.p50Ms)} ms, p99 ${ms(f.p99Ms)} ms; batches of ${REPLICAS_BATCH} ${formatInt(f.batchTasksPerSec)} tasks/s`;

/**
 * The replicas scenario (taskq only): on a private master with one replica,
 * each mode of REPLICAS_MODES (waitForReplicas off, `{ replicas: 1 }`)
 * `repeat` times, interleaved, after an untimed warm-up of each; the median
 * of each figure. Then the replica is stopped and REPLICA_DOWN's enqueues are
 * timed once. The rig is started for the scenario only.
 */
export async function runReplicas(ctx: BenchContext, systems: readonly SystemName[], progress: Progress, out: BenchOutcome, signal: AbortSignal): Promise<void> {
  const { replicasN: n, replicasDownN: downN, repeat } = ctx.plan;
  const runnable = systems.filter((s) => s === 'taskq');
  for (const system of systems.filter((s) => s !== 'taskq')) out.errors.push({ bench: 'replicas', system, n, error: 'the replicas scenario runs taskq only' });
  if (runnable.length === 0) return;
  const system = 'taskq';
  let rig: ReplicaRig;
  try {
    rig = await startReplicaRig();
  } catch (err) {
    out.errors.push({ bench: 'replicas', system, n, error: `the master and replica did not start: ${errorMessage(err)}` });
    progress(`replicas: the master and replica did not start: ${errorMessage(err)}`);
    return;
  }
  progress(`replicas: master ${rig.target.host}:${rig.target.port} and one replica, in sync`);
  try {
    type Cell = { readonly mode: ReplicasMode; readonly runs: ReplicasRunFigures[]; failed: boolean };
    const cells: Cell[] = REPLICAS_MODES.map((mode) => ({ mode, runs: [], failed: false }));
    // untimed: the first enqueues of each mode compile the bench's and the Queue's code
    for (const cell of cells) {
      signal.throwIfAborted();
      try {
        await runReplicasUp(rig, cell.mode, Math.min(n, REPLICAS_WARMUP));
      } catch (err) {
        cell.failed = true;
        out.errors.push({ bench: 'replicas', system, n, error: `${cell.mode.name} (warm-up): ${errorMessage(err)}` });
        progress(`replicas ${system} ${cell.mode.name} warm-up: ERROR ${errorMessage(err)}`);
      }
    }
    for (let r = 1; r <= repeat; r++) {
      for (const cell of cells) {
        if (cell.failed) continue;
        signal.throwIfAborted();
        const what = `replicas ${system} ${cell.mode.name} n=${formatInt(n)} run ${r}/${repeat}`;
        try {
          const figures = runFigures(await runReplicasUp(rig, cell.mode, n));
          cell.runs.push(figures);
          progress(`${what}: ${upText(figures)}`);
        } catch (err) {
          cell.failed = true;
          out.errors.push({ bench: 'replicas', system, n, error: `${cell.mode.name}: ${errorMessage(err)}` });
          progress(`${what}: ERROR ${errorMessage(err)}`);
        }
      }
    }
    for (const { mode, runs, failed } of cells) {
      if (failed || runs.length === 0) continue;
      out.results.push({
        bench: 'replicas',
        system,
        n,
        mode: mode.name,
        ...(mode.waitForReplicas === undefined ? {} : { waitForReplicas: mode.waitForReplicas }),
        batch: REPLICAS_BATCH,
        ...summarizeRuns(runs),
      });
    }

    signal.throwIfAborted();
    const what = `replicas ${system} ${REPLICA_DOWN.name} n=${formatInt(downN)}`;
    try {
      await rig.stopReplica();
      const down = await runReplicaDown(rig, downN);
      out.results.push({
        bench: 'replicas',
        system,
        n: downN,
        mode: REPLICA_DOWN.name,
        waitForReplicas: REPLICA_DOWN.waitForReplicas,
        p50Ms: down.p50Ms,
        p99Ms: down.p99Ms,
        minMs: down.minMs,
        maxMs: down.maxMs,
        rejected: down.calls,
      });
      progress(`${what}: every enqueue rejected with NotReplicatedError after p50 ${ms(down.p50Ms)} ms, p99 ${ms(down.p99Ms)} ms (min ${ms(down.minMs)}, max ${ms(down.maxMs)})`);
    } catch (err) {
      out.errors.push({ bench: 'replicas', system, n: downN, error: `${REPLICA_DOWN.name}: ${errorMessage(err)}` });
      progress(`${what}: ERROR ${errorMessage(err)}`);
    }
  } finally {
    await rig.stop();
  }
}
