import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { Monitor } from '@taskq/monitor';
import { Queue, queueKeys } from '@taskq/queue';
import { monitored, respCommand, startRedisCluster, type RedisCluster } from '@taskq/redis-harness';
import type { StatusRecord } from '@taskq/recorder';
import { WorkerPool, type HandlerMap } from '@taskq/worker-pool';
import { startApi } from './test-support/api-app';
import { AppProcess, killAllApps } from './test-support/app-process';
import { CaptureLogger } from './test-support/capture-logger';
import { closeAllSse, SseClient } from './test-support/sse-client';
import { waitUntil, withTimeout } from './test-support/wait';

// Sharded pub/sub on a Redis Cluster (issue 17): the queue scripts SPUBLISH a queue's events,
// wake and control messages on the node that owns the queue's slot, the Monitor and the worker
// pools SSUBSCRIBE there, and both follow the queue when `redis-cli --cluster reshard` moves its
// slot to another node while tasks run.

const run = promisify(execFile);

let cluster: RedisCluster;
const clients: (Cluster | Redis)[] = [];
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  cluster = await startRedisCluster();
}, 60_000);

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  await closeAllSse();
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

async function pool(queue: string, handlers: HandlerMap, idlePollMs = 5000): Promise<WorkerPool> {
  const p = new WorkerPool({ queue, connection: connect(), concurrency: 4, graceMs: 0, idlePollMs, logger: new CaptureLogger(), handlers });
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

/** Empties every node of this file's own cluster (the every-queue tests count the queues there). */
const flushCluster = async (): Promise<void> => {
  for (const node of cluster.nodes) await respCommand(node.port, ['FLUSHALL']);
};

const slotOf = async (key: string): Promise<number> => Number(await respCommand(cluster.nodes[0].port, ['CLUSTER', 'KEYSLOT', key]));
const nodeId = async (port: number): Promise<string> => String(await respCommand(port, ['CLUSTER', 'MYID']));

/** The port of the node that owns `slot` now, as node `askPort` sees the slot map. */
async function ownerOf(slot: number, askPort: number): Promise<number> {
  const asker = new Redis(askPort);
  const slots = await asker.cluster('SLOTS').finally(() => asker.disconnect());
  const range = slots.find(([from, to]) => slot >= from && slot <= to);
  if (!range) throw new Error(`no node owns slot ${slot}`);
  return Number(range[2][1]);
}

describe('sharded pub/sub on a Redis Cluster of 3 masters', () => {
  it("a queue's events are SPUBLISHed on its own node: an SSUBSCRIBEr there gets them, a plain SUBSCRIBEr on another node does not; the pool is woken by its shard channel", async () => {
    const queue = 'sharded-events';
    const keys = queueKeys(queue);
    const ownerPort = await cluster.nodeOf(keys.ready);
    const other = cluster.nodes.find((n) => n.port !== ownerPort);
    if (!other) throw new Error('a cluster of one node');

    // a plain subscriber on another node, and a sharded one on the owner
    const plain = new Redis(other.port, { lazyConnect: true });
    const shard = new Redis(ownerPort, { lazyConnect: true });
    clients.push(plain, shard);
    await plain.connect();
    await shard.connect();
    const plainGot: string[] = [];
    const shardGot: string[] = [];
    plain.on('message', (_c: string, m: string) => plainGot.push(m));
    shard.on('smessage', (_c: string, m: string) => shardGot.push(m));
    await plain.subscribe(keys.events);
    await shard.ssubscribe(keys.events);

    // idle poll of a minute: the task runs within seconds only if the enqueue's wake (a shard message) reached the pool
    await pool(queue, { add: (task) => (task.payload as number) + 1 }, 60_000);
    const m = await monitor(queue);
    const q = new Queue({ queue, connection: connect() });
    let id = '';
    const commands = await monitored(`redis://127.0.0.1:${ownerPort}`, async () => {
      const started = Date.now();
      id = (await q.enqueue('add', 41)).id;
      const record = await m.waitFor(id, undefined, { timeoutMs: 20_000 });
      expect(record.status).toBe('Done');
      expect(Date.now() - started).toBeLessThan(30_000);
    });
    await waitUntil(() => shardGot.some((msg) => msg.includes(`"${id}"`) && msg.includes('"Done"')), { timeoutMs: 10_000, what: 'the Done record on the shard channel' });
    // a plain PUBLISH on the same channel name is broadcast by the cluster: once the plain subscriber has it, it would have had the records before it
    const publisher = new Redis(ownerPort);
    clients.push(publisher);
    await publisher.publish(keys.events, 'marker');
    await waitUntil(() => plainGot.includes('marker'), { timeoutMs: 10_000, what: 'the marker on the plain channel' });
    expect(plainGot).toEqual(['marker']);

    const publishes = commands.filter((c) => /^s?publish$/i.test(c.args[0] ?? '') && (c.args[1] === keys.events || c.args[1] === keys.wake));
    expect(publishes.length).toBeGreaterThanOrEqual(3); // the enqueue's record and wake, the fetch's InProgress, the Done
    expect(new Set(publishes.map((c) => c.args[0].toUpperCase()))).toEqual(new Set(['SPUBLISH']));
  }, 60_000);

  it('`redis-cli --cluster reshard` moves a running queue to another node: nothing lost, the Monitor and the pools follow it there', async () => {
    // a queue whose slot is among the first 200 of node 0, the ones reshard takes first
    const firstSlot = 0;
    let queue = '';
    for (let i = 0; i < 5000 && queue === ''; i++) {
      const slot = await slotOf(queueKeys(`moving-${i}`).ready);
      if (slot >= firstSlot && slot < firstSlot + 200) queue = `moving-${i}`;
    }
    expect(queue).not.toBe('');
    const keys = queueKeys(queue);
    const slot = await slotOf(keys.ready);
    const [from, to] = [cluster.nodes[0].port, cluster.nodes[1].port];
    expect(await ownerOf(slot, from)).toBe(from);

    const runs = new Map<string, number>();
    const handlers: HandlerMap = {
      work: async (task) => {
        runs.set(task.id, (runs.get(task.id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 5));
        return task.payload;
      },
    };
    await pool(queue, handlers);
    await pool(queue, handlers);
    const m = await monitor(queue);
    const live: StatusRecord[] = [];
    m.onStatus('*', ['Done'], (record) => live.push(record));
    const q = new Queue({ queue, connection: connect() });

    // a producer that keeps enqueuing while the slot moves
    const ids: string[] = [];
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing || i < 200; i++) {
        ids.push((await q.enqueue('work', i)).id);
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitUntil(() => live.length >= 50, { timeoutMs: 20_000, what: '50 tasks Done before the move' });

    const reshard = await run(
      'redis-cli',
      ['--cluster', 'reshard', `127.0.0.1:${from}`, '--cluster-from', await nodeId(from), '--cluster-to', await nodeId(to), '--cluster-slots', '200', '--cluster-yes'],
      { timeout: 60_000 },
    );
    expect(reshard.stdout).toContain(`Moving slot ${slot} from`);
    expect(await ownerOf(slot, from)).toBe(to);
    expect(await ownerOf(slot, to)).toBe(to);
    const doneAtMove = live.length;

    producing = false;
    await producer;
    const records = await m.waitFor(ids, undefined, { timeoutMs: 60_000 });
    expect([...records.values()].filter((r) => r.status !== 'Done')).toEqual([]);
    expect(ids.filter((id) => !runs.has(id))).toEqual([]);
    const twice = [...runs.values()].filter((n) => n > 1).length;
    // live events after the move came from the queue's new node: the Monitor's shard subscription followed it
    await waitUntil(() => live.length > doneAtMove, { timeoutMs: 20_000, what: 'live Done events after the move' });

    // a task enqueued after the move (all keys on the new node) is woken and run: the pools' subscriptions followed too
    const after = (await q.enqueue('work', 'after')).id;
    expect((await m.waitFor(after, undefined, { timeoutMs: 20_000 })).status).toBe('Done');
    // the figures of this run
    process.stdout.write(`reshard: ${ids.length + 1} tasks, ${live.length} live Done events (${doneAtMove} before the move), ${twice} run twice, 0 lost\n`);
  }, 120_000);

  it('GET /events of every queue on a cluster: live shard events of the queues found; a queue made later ends the stream once, and the resume replays it', async () => {
    const [first, later] = ['ev-every-a', 'ev-every-b'];
    await flushCluster();
    expect(await cluster.nodeOf(queueKeys(first).ready)).not.toBe(await cluster.nodeOf(queueKeys(later).ready));
    const q1 = new Queue({ queue: first, connection: connect() });
    const q2 = new Queue({ queue: later, connection: connect() });
    await q1.enqueue('x', 0);
    const api = await startApi(['--redis', cluster.url]);
    const sse = await SseClient.open(api.base, '/events');
    const ready = await sse.waitFor((e) => e.event === 'ready', 'the ready event', 15_000);
    expect(ready.json?.['queues']).toEqual([first]);
    const live = (await q1.enqueue('x', 1)).id;
    await sse.waitFor((e) => e.event === 'status' && e.json?.['id'] === live && e.json['queue'] === first, "the live status of the first queue's task", 15_000);

    const made = (await q2.enqueue('x', 2)).id;
    await withTimeout(sse.ended, 15_000, 'the every-queue stream to end once the new queue is found');
    const again = await SseClient.open(api.base, '/events', { lastEventId: sse.lastId });
    const replayed = await again.waitFor((e) => e.event === 'status' && e.json?.['id'] === made, "the replayed Queued of the new queue's task", 15_000);
    expect(replayed.json).toMatchObject({ queue: later, status: 'Queued', replayed: true });
    const resumed = await again.waitFor((e) => e.event === 'ready', 'the ready event of the resumed stream', 15_000);
    expect(resumed.json?.['queues']).toEqual([first, later]);
    // and the new queue's events are live now
    const next = (await q2.enqueue('x', 3)).id;
    await again.waitFor((e) => e.event === 'status' && e.json?.['id'] === next && e.json['queue'] === later, "the live status of the new queue's task", 15_000);
  }, 60_000);

  it('`taskq watch` on a cluster: every queue found, and a queue made later, its events printed', async () => {
    const [first, later] = ['watch-c-a', 'watch-c-b'];
    await flushCluster();
    await new Queue({ queue: first, connection: connect() }).enqueue('x', 0);
    const watch = AppProcess.start('cli', ['watch', '--redis', cluster.url]);
    await waitUntil(() => watch.stderr.includes('(Ctrl-C to stop)'), { timeoutMs: 15_000, what: 'watch to subscribe' });
    expect(watch.stderr).toContain(`watching every queue of the cluster (1 now: ${first};`);
    const a = (await new Queue({ queue: first, connection: connect() }).enqueue('x', 1)).id;
    await waitUntil(() => watch.stdoutLines.some((l) => l.includes(a)), { timeoutMs: 15_000, what: `a watch line of ${a}` });
    // the new queue's first tasks move before watch finds it (every 2 s): one stays Queued, one is cancelled
    const q2 = new Queue({ queue: later, connection: connect() });
    const early = (await q2.enqueue('x', 2)).id;
    const gone = (await q2.enqueue('x', 3)).id;
    await q2.cancel(gone);
    await waitUntil(() => watch.stderr.includes(`also watching ${later} (new)`), { timeoutMs: 15_000, what: 'watch to find the new queue' });
    // what it published before watch subscribed is replayed from its records, each once
    const time = '\\d\\d:\\d\\d:\\d\\d\\.\\d{3}';
    for (const pattern of [new RegExp(`^${time} ${later} ${early} Queued attempt 0 \\(replayed\\)$`), new RegExp(`^${time} ${later} ${gone} Cancelled attempt 0(: .*)? \\(replayed\\)$`)]) {
      await waitUntil(() => watch.stdoutLines.some((l) => pattern.test(l)), { timeoutMs: 15_000, what: `a watch line ${pattern}`, details: () => watch.tail() });
    }
    const b = (await q2.enqueue('x', 4)).id;
    // (generated ids repeat between queues: a line is the queue's name and the id)
    const of = (id: string): string[] => watch.stdoutLines.filter((l) => l.includes(` ${later} ${id} `));
    await waitUntil(() => of(b).length > 0, { timeoutMs: 15_000, what: `a watch line of ${b}` });
    expect(of(early)).toHaveLength(1);
    expect(of(gone)).toHaveLength(1);
    expect(of(b)[0]).toMatch(new RegExp(`^${time} ${later} ${b} Queued attempt 0$`));
    watch.signal('SIGINT');
    expect((await watch.waitForExit(10_000)).code).toBe(0);
    await q2.close();
  }, 60_000);
});
