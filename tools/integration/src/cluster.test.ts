import { Cluster } from 'ioredis';
import { Monitor } from '@taskq/monitor';
import { chord, discoverQueues, Flows, group, Queue, queueKeys } from '@taskq/queue';
import { respCommand, startRedisCluster, type RedisCluster } from '@taskq/redis-harness';

import { WorkerPool, sleepTask, type HandlerMap } from '@taskq/worker-pool';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { CaptureLogger } from './test-support/capture-logger';
import { waitUntil, withTimeout } from './test-support/wait';

// The libraries on a real Redis Cluster (3 masters on loopback, issue 17): queues whose slots are
// on different nodes, worker pools, monitors, and flows whose steps cross those slots.

let cluster: RedisCluster;
const clients: Cluster[] = [];
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  await killAllApps();
});

afterAll(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await cluster?.stop();
});

function connect(): Cluster {
  const c = new Cluster([...cluster.seeds], { redisOptions: { maxRetriesPerRequest: 3 } });
  clients.push(c);
  return c;
}

/** One queue name per node: the queue's keys (hash tag {name}) live on that node. */
async function queuesOnEveryNode(prefix: string): Promise<string[]> {
  const byNode = new Map<number, string>();
  for (let i = 0; byNode.size < cluster.nodes.length && i < 1000; i++) {
    const name = `${prefix}-${i}`;
    const node = await cluster.nodeOf(queueKeys(name).ready);
    if (!byNode.has(node)) byNode.set(node, name);
  }
  return [...byNode.values()];
}

async function pool(queue: string, handlers: HandlerMap): Promise<WorkerPool> {
  const p = new WorkerPool({ queue, connection: connect(), concurrency: 4, graceMs: 0, logger: new CaptureLogger(), handlers });
  await withTimeout(p.start(), 15_000, `the pool of ${queue} to start`);
  stops.push(() => p.stop(0));
  return p;
}

async function monitor(queue: string): Promise<Monitor> {
  const m = new Monitor({ queue, connection: connect(), log: false });
  await withTimeout(m.start(), 15_000, `the monitor of ${queue} to start`);
  stops.push(() => m.stop());
  return m;
}

describe('on a Redis Cluster of 3 masters', () => {
  it('three queues on three nodes: every task of each runs once and is Done, followed by a Monitor per queue', async () => {
    const queues = await queuesOnEveryNode('cl-tasks');
    expect(new Set(await Promise.all(queues.map((q) => cluster.nodeOf(queueKeys(q).ready)))).size).toBe(3);
    const ran: string[] = [];
    for (const q of queues) await pool(q, { sleep: (task, ctx) => (ran.push(`${q}/${task.id}`), sleepTask(task, ctx)) });
    for (const q of queues) {
      const m = await monitor(q);
      const tasks = await new Queue({ queue: q, connection: connect() }).enqueueMany(Array.from({ length: 40 }, (_, i) => ({ id: `t${i}`, type: 'sleep', payload: { ms: 1 } })));
      const finals = await m.waitFor(tasks.map((t) => t.id), undefined, { timeoutMs: 20_000 });
      expect([...finals.values()].every((r) => r.status === 'Done')).toBe(true);
    }
    expect(ran).toHaveLength(120);
    expect(new Set(ran).size).toBe(120);
    // found on every master, as GET /queues and taskq stats find them
    expect((await discoverQueues(connect(), 'taskq')).filter((q) => queues.includes(q))).toEqual([...queues].sort());
    const stats = AppProcess.start('cli', ['stats', '--json', '--redis', cluster.url]);
    const statsExit = await stats.waitForExit(20_000);
    expect({ code: statsExit.code, stderr: stats.stderr }).toEqual({ code: 0, stderr: '' });
    const listed = (JSON.parse(stats.stdoutLines.join('\n')) as { queues: { queue: string; finished: number }[] }).queues;
    for (const q of queues) expect(listed.find((l) => l.queue === q)).toMatchObject({ queue: q, finished: 40 });
  }, 60_000);

  it('a chord whose members are on three nodes and its callback on one: FlowDone with every result; failFast across nodes', async () => {
    const queues = await queuesOnEveryNode('cl-flow');
    for (const q of queues) {
      await pool(q, {
        sq: (task) => (task.payload as number) ** 2,
        sum: (task) => Object.values(task.flow?.inputs ?? {}).reduce<number>((a, b) => a + (b as number), 0),
        boom: () => {
          throw new Error('boom');
        },
      });
    }
    const flows = new Flows({ queue: queues[0], connection: connect() });
    const m = await monitor(queues[0]);
    const members = Array.from({ length: 9 }, (_, i) => ({ name: `m${i}`, type: 'sq', payload: i + 1, queue: queues[i % 3] }));
    const { id } = await flows.add(chord(group(...members), { name: 'total', type: 'sum', queue: queues[2] }));
    const state = await m.waitForFlow(id, { timeoutMs: 20_000 });
    expect(state.status).toBe('FlowDone');
    expect(state.steps.find((s) => s.name === 'total')?.result).toBe(285);
    expect((await flows.summaries([id]))[0]).toMatchObject({ id, status: 'FlowDone', done: 10, total: 10 });
    expect(await flows.list()).toContain(id);

    const failing = await flows.add(
      chord(group({ name: 'bad', type: 'boom', queue: queues[0], maxAttempts: 1 }, { name: 'slow', type: 'sq', payload: 2, queue: queues[1], delayMs: 60_000 }), {
        name: 'cb',
        type: 'sum',
        queue: queues[2],
      }),
    );
    const failed = await m.waitForFlow(failing.id, { timeoutMs: 20_000 });
    expect(failed.status).toBe('FlowFailed');
    expect(failed.steps.map((s) => s.status)).toEqual(['Dead', 'Cancelled', 'Cancelled']);
    // two flows (two slots) summed up at once
    expect((await flows.summaries([id, failing.id])).map((f) => f.status)).toEqual(['FlowDone', 'FlowFailed']);
    expect((await new Queue({ queue: queues[1], connection: connect() }).status(`${failing.id}:slow`))?.status).toBe('Cancelled');
  }, 60_000);

  it('the apps with --redis redis+cluster://…: a worker (heartbeats from its thread, on the cluster) and the producer run 20 tasks to Done; a flow too', async () => {
    const [queue] = await queuesOnEveryNode('cl-apps');
    const common = ['--redis', cluster.url, '--queue', queue];
    const worker = AppProcess.start('worker', ['4', ...common]);
    await worker.waitForLine(line.poolReady, 'the pool-ready line', 20_000);
    const producer = AppProcess.start('producer', ['20', '--min-ms', '0', '--max-ms', '5', '--json', ...common]);
    const exit = await producer.waitForExit(30_000);
    expect({ code: exit.code, stderr: producer.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(producer.stdoutLines.at(-1) ?? 'null')).toMatchObject({ queue, total: 20, Done: 20 });
    const flow = AppProcess.start('producer', ['3', '--flow', '--min-ms', '0', '--max-ms', '5', '--json', ...common]);
    const flowExit = await flow.waitForExit(30_000);
    expect({ code: flowExit.code, stderr: flow.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(flow.stdoutLines.at(-1) ?? 'null')).toMatchObject({ status: 'FlowDone', total: 10 });
    // the worker says where it is connected (no password to hide here) and beats from its thread: the
    // thread's own connection to the node that owns the queue ran the heartbeat script there
    const out = worker.stdoutLines.join('\n') + worker.stderr;
    expect(out).toContain(cluster.url);
    expect(out).not.toContain('heartbeats from the main thread');
    expect(out).not.toContain('heartbeat failed');
    const owner = await cluster.nodeOf(queueKeys(queue).consumers);
    await waitUntil(async () => /name=taskq-heartbeat-\S+ .*cmd=evalsha/.test(String(await respCommand(owner, ['CLIENT', 'LIST']))), {
      timeoutMs: 10_000,
      what: 'the heartbeat thread to run its script on the node of the queue',
    });
    worker.signal('SIGTERM');
    expect((await worker.waitForExit(15_000)).code).toBe(0);
  }, 90_000);

  it('an unreachable cluster URL: the app fails within its connect timeout, naming the redacted URL', async () => {
    const url = 'redis+cluster://tq:SECRET@127.0.0.1:1,127.0.0.1:2';
    const producer = AppProcess.start('producer', ['1', '--redis', url, '--connect-timeout-ms', '1000']);
    const exit = await producer.waitForExit(15_000);
    expect(exit.code).toBe(1);
    expect(producer.stderr).toContain('cannot connect to the Redis Cluster at redis+cluster://***@127.0.0.1:1,127.0.0.1:2 within 1000 ms');
    expect(producer.stderr + producer.stdoutLines.join('\n')).not.toContain('SECRET');
  }, 30_000);
});
