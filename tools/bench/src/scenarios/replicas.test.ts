import type { Redis } from 'ioredis';
import { connectRedis } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { parseArgs } from '../args';
import type { BenchOutcome } from '../outcome';
import { REPLICAS_MODES } from '../replicas';
import type { ReplicaDownResult, ReplicasResult } from '../results';
import { redisTarget } from '../systems/producer';
import type { BenchContext } from './context';
import { runReplicas, runReplicasUp } from './replicas';
import { startReplicaRig } from './replicas-rig';

// The replicas scenario on a real master and replica (the harness's redis-servers, free ports).

let server: RedisServer;
let admin: Redis;
let ctx: BenchContext;

beforeAll(async () => {
  server = await startRedisServer();
  admin = await connectRedis(server.url);
  const plan = { ...parseArgs(['--only', 'taskq', '--scenarios', 'replicas']).plan, replicasN: 150, replicasDownN: 3, repeat: 2 };
  ctx = { target: redisTarget(server.url), admin, serverPid: server.pid, plan };
}, 30_000);

afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

describe('the replica rig', () => {
  it('has the replica in sync, keeps every task of a { replicas: 1 } run on it, and sees it gone once stopped', async () => {
    const rig = await startReplicaRig();
    try {
      expect(rig.target.port).not.toBe(6379);
      const wait = REPLICAS_MODES.find((m) => m.name === 'wait-1');
      if (!wait) throw new Error('no wait-1 mode');
      // runReplicasUp checks the replica holds all n tasks as soon as the last enqueue resolved
      const run = await runReplicasUp(rig, wait, 120);
      expect(run.singleMs).toHaveLength(120);
      expect(run.batchTasksPerSec).toBeGreaterThan(0);
      await rig.stopReplica();
      expect(await rig.master.info('replication')).toMatch(/connected_slaves:0/);
    } finally {
      await rig.stop();
    }
  }, 60_000);
});

describe('runReplicas', () => {
  it('measures each mode --repeat times, then the replica stopped, for taskq alone', async () => {
    const out: BenchOutcome = { results: [], errors: [], notApplicable: [] };
    const lines: string[] = [];
    await runReplicas(ctx, ['taskq'], (l) => lines.push(l), out, new AbortController().signal);
    expect(out.errors).toEqual([]);
    expect(out.results.map((r) => (r.bench === 'replicas' ? `${r.mode} n=${r.n}` : r.bench))).toEqual(['off n=150', 'wait-1 n=150', 'replica-down n=3']);
    const [off, wait] = out.results as ReplicasResult[];
    expect(off.waitForReplicas).toBeUndefined();
    expect(wait.waitForReplicas).toEqual({ replicas: 1 });
    for (const r of [off, wait]) {
      expect(r.runsP50Ms).toHaveLength(2);
      expect(r.p50Ms).toBeGreaterThan(0);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
      expect(r.batchTasksPerSec).toBeGreaterThan(0);
    }
    const down = out.results[2] as ReplicaDownResult;
    expect(down.rejected).toBe(3);
    // WAIT gives up no earlier than its timeout (Redis checks it on its cron tick: 100 ms at the default hz 10)
    expect(down.minMs).toBeGreaterThanOrEqual(50);
    expect(lines[0]).toMatch(/^replicas: master 127\.0\.0\.1:\d+ and one replica, in sync$/);
    expect(lines.filter((l) => / run \d\/2: one at a time p50 [\d.]+ ms, p99 [\d.]+ ms; batches of 100 [\d,]+ tasks\/s$/.test(l))).toHaveLength(4);
    expect(lines[lines.length - 1]).toMatch(/^replicas taskq replica-down n=3: every enqueue rejected with NotReplicatedError after p50 /);
  }, 60_000);

  it('records the peers it is given as errors: it runs taskq only (the bench marks them n/a before)', async () => {
    const out: BenchOutcome = { results: [], errors: [], notApplicable: [] };
    await runReplicas(ctx, ['bullmq'], () => undefined, out, new AbortController().signal);
    expect(out.errors).toEqual([{ bench: 'replicas', system: 'bullmq', n: 150, error: 'the replicas scenario runs taskq only' }]);
    expect(out.results).toEqual([]);
  });
});
