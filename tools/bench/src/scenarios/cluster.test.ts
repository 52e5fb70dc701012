import type { Redis } from 'ioredis';
import { connectRedis, parseClusterUrl } from '@taskq/queue';
import { respCommand, startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { parseArgs } from '../args';
import type { BenchOutcome } from '../outcome';
import type { ClusterResult } from '../results';
import { redisTarget } from '../systems/producer';
import { startInProcessWorker } from '../test-support/in-process-worker';
import { runClusterDrain } from './cluster-drain';
import { startClusterRig, type ClusterRig } from './cluster-rig';
import { runCluster } from './cluster';
import type { BenchContext } from './context';

// The cluster scenario on a real redis-server and a real 3-master Redis Cluster (the harness's),
// with the workers in this process (the bench forks them; see test-support/in-process-worker.ts).

let server: RedisServer;
let admin: Redis;
let ctx: BenchContext;

beforeAll(async () => {
  server = await startRedisServer();
  admin = await connectRedis(server.url);
  const plan = { ...parseArgs(['--only', 'taskq,bullmq', '--scenarios', 'cluster']).plan, clusterN: 600, repeat: 1 };
  ctx = { target: redisTarget(server.url), admin, serverPid: server.pid, plan };
}, 30_000);

afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

/** DBSIZE of each master. */
const dbsizes = (rig: ClusterRig): Promise<number[]> =>
  Promise.all(parseClusterUrl(rig.cluster.target.url).seeds.map(async (seed) => Number(await respCommand(seed.port, ['DBSIZE']))));

describe('the cluster rig', () => {
  it("picks one queue per master, and each system's drain of the three leaves its keys on all three masters", async () => {
    const rig = await startClusterRig(ctx);
    try {
      expect(rig.queues).toHaveLength(3);
      expect(rig.cluster.redisPids).toHaveLength(3);
      for (const system of ['taskq', 'bullmq'] as const) {
        const sample = await runClusterDrain(rig.cluster, system, rig.queues, 300, 10, startInProcessWorker);
        expect(sample.tasksPerSec).toBeGreaterThan(0);
        // every queue's finished tasks (taskq) or events (BullMQ) stay on its master until the next flush
        expect((await dbsizes(rig)).every((keys) => keys > 0)).toBe(true);
      }
      await rig.cluster.flush();
      expect(await dbsizes(rig)).toEqual([0, 0, 0]);
    } finally {
      await rig.stop();
    }
  }, 60_000);
});

describe('runCluster', () => {
  it('drains every layout for each system and reports tasks/s, the ratio to 1 node and the CPU of each side', async () => {
    const out: BenchOutcome = { results: [], errors: [], notApplicable: [] };
    const lines: string[] = [];
    await runCluster(ctx, ['taskq', 'bullmq'], (l) => lines.push(l), out, new AbortController().signal, startInProcessWorker);
    expect(out.errors).toEqual([]);
    const results = out.results as ClusterResult[];
    expect(results.map((r) => `${r.layout} ${r.system}`)).toEqual([
      '1-node-1-queue taskq',
      '1-node-1-queue bullmq',
      '1-node-3-queues taskq',
      '1-node-3-queues bullmq',
      '3-masters-3-queues taskq',
      '3-masters-3-queues bullmq',
    ]);
    for (const r of results) {
      expect(r).toMatchObject({ bench: 'cluster', n: 600, queues: r.layout === '1-node-1-queue' ? 1 : 3 });
      expect(r.tasksPerSec).toBeGreaterThan(0);
      expect(r.runs).toHaveLength(1);
      if (process.platform === 'linux') {
        // the workers ran in this process, which counts as the bench; the redis-servers' ticks are 10 ms
        expect(r.workerUsPerTask).toBe(0);
        expect(r.benchUsPerTask).toBeGreaterThan(0);
        expect(r.redisUsPerTask).toBeGreaterThanOrEqual(0);
      }
    }
    expect(lines[0]).toMatch(/^cluster: 3 masters up; queues bench-cl-\d+, bench-cl-\d+, bench-cl-\d+, one on each$/);
    expect(lines.filter((l) => / run 1\/1: [\d,]+ tasks\/s/.test(l))).toHaveLength(6);
  }, 120_000);

});
