import { median } from './stats';

/**
 * The layouts of the cluster scenario, in the order they run. The same tasks
 * and the same worker in each: one worker process with the plan's
 * concurrency (50), as in the drain; with three queues it serves all three
 * (taskq: one WorkerPool, `queues` with equal weights, as `--queues a:1,b:1,c:1`
 * deploys it), a third of the tasks in each. `1-node-3-queues` is the
 * control: the cluster layout's queues and worker on the single server, so
 * that the two ratios separate what the cluster changes from what spreading
 * the tasks over three queues changes.
 */
export const CLUSTER_LAYOUTS = [
  { name: '1-node-1-queue', label: '1 node, 1 queue', site: 'single', queues: 1 },
  { name: '1-node-3-queues', label: '1 node, 3 queues', site: 'single', queues: 3 },
  { name: '3-masters-3-queues', label: '3 masters, 3 queues', site: 'cluster', queues: 3 },
] as const;

export type ClusterLayout = (typeof CLUSTER_LAYOUTS)[number];
export type ClusterLayoutName = ClusterLayout['name'];

/** The layout every other is compared with: the drain scenario's setup. */
export const BASELINE_LAYOUT: ClusterLayoutName = '1-node-1-queue';

/** Masters of the bench's cluster. */
export const CLUSTER_MASTERS = 3;

/** Queue names the scenario tries, `bench-cl-0`, `bench-cl-1`, …, until one lands on each master. */
export const CLUSTER_QUEUE_PREFIX = 'bench-cl';

/**
 * One queue name per node, in the order of `nodes`: the first of
 * `<prefix>-0`, `<prefix>-1`, … whose keys `nodeOf` places on that node.
 * Throws when `maxTries` names do not cover every node.
 */
export async function pickQueuesOnNodes(
  nodeOf: (queue: string) => Promise<number>,
  nodes: readonly number[],
  prefix = CLUSTER_QUEUE_PREFIX,
  maxTries = 1000,
): Promise<string[]> {
  const byNode = new Map<number, string>();
  for (let i = 0; byNode.size < nodes.length && i < maxTries; i++) {
    const name = `${prefix}-${i}`;
    const node = await nodeOf(name);
    if (nodes.includes(node) && !byNode.has(node)) byNode.set(node, name);
  }
  const missing = nodes.filter((node) => !byNode.has(node));
  if (missing.length > 0) throw new Error(`no queue name among ${maxTries} tried lands on node(s) ${missing.join(', ')}`);
  return nodes.map((node) => byNode.get(node) ?? '');
}

/**
 * BullMQ's key prefix for `queue` on a cluster: the queue's own hash tag, so
 * each queue's keys share one slot (`{q}:q:wait`, the slot of `q`, where
 * taskq's `taskq:{q}:…` are) and the three queues land on three masters; one
 * prefix for all would put every queue on one slot.
 */
export function bullmqClusterPrefix(queue: string): string {
  return `{${queue}}`;
}

/** CPU time spent during one timed drain, ms, read from /proc: the redis-server(s), the worker process(es), the bench process. */
export interface CpuSample {
  readonly redisMs: number;
  readonly workersMs: number;
  readonly benchMs: number;
  readonly wallMs: number;
}

/** A drain's CPU per task, µs, per side, and the cores all of them kept busy on average. */
export interface CpuPerTask {
  readonly redisUsPerTask: number;
  readonly workerUsPerTask: number;
  /** The bench process: its progress polls (and, in the scenario's tests, in-process workers). */
  readonly benchUsPerTask: number;
  /** (redis + workers + bench CPU time) / wall time. */
  readonly coresBusy: number;
}

export function cpuPerTask(sample: CpuSample, n: number): CpuPerTask {
  const us = (ms: number): number => (ms * 1000) / n;
  return {
    redisUsPerTask: us(sample.redisMs),
    workerUsPerTask: us(sample.workersMs),
    benchUsPerTask: us(sample.benchMs),
    coresBusy: sample.wallMs > 0 ? (sample.redisMs + sample.workersMs + sample.benchMs) / sample.wallMs : 0,
  };
}

/** The median of each figure over runs (each on its own: the medians need not come from one run). */
export function medianCpu(runs: readonly CpuPerTask[]): CpuPerTask {
  const of = (key: keyof CpuPerTask): number => median(runs.map((r) => r[key]));
  return { redisUsPerTask: of('redisUsPerTask'), workerUsPerTask: of('workerUsPerTask'), benchUsPerTask: of('benchUsPerTask'), coresBusy: of('coresBusy') };
}
