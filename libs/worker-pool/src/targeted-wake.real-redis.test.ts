import { Redis } from 'ioredis';
import { monitored, startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { Janitor, Queue, queueKeys, SCRIPT_KEYS } from '@taskq/queue';
import { resolvePoolOptions } from './options';
import { WorkerPool } from './worker-pool';
import { waitFor } from './test-support/wait-for';

// Targeted wake: an enqueue wakes only as many waiting pools as it made tasks
// ready (the wake message names them), not every idle pool.

const POOLS = 8;
let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = new Redis(server.url);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

/** The fetch script's calls among `commands`: EVALSHA/EVAL with fetch's keys, the first the queue's ready list. */
function fetchCalls(commands: readonly { args: string[] }[], queue: string): number {
  const ready = queueKeys(queue).ready;
  return commands.filter((c) => /^eval(sha)?$/i.test(c.args[0] ?? '') && c.args[2] === String(SCRIPT_KEYS.fetch.length) && c.args[3] === ready).length;
}

/**
 * POOLS pools of 2 sub-workers on `queue`, consumers `<queue>-0` … (not started);
 * no poll and no janitor in the counted window: only wake messages make a pool fetch.
 */
function waitingPools(queue: string, onRun: (taskId: string) => void, ackLingerMs?: number): WorkerPool[] {
  return Array.from(
    { length: POOLS },
    (_, i) =>
      new WorkerPool({
        queue,
        connection: server.url,
        consumerId: `${queue}-${i}`,
        concurrency: 2,
        ...(ackLingerMs === undefined ? {} : { ackLingerMs }),
        idlePollMs: 60_000,
        janitor: false,
        handlers: { noop: (task) => onRun(task.id) },
      }),
  );
}

describe('targeted wake', () => {
  it(`a task enqueued while ${POOLS} pools wait makes one of them fetch, not all ${POOLS}; every pool waits again afterwards`, async () => {
    const queue = 'targeted';
    const keys = queueKeys(queue);
    const ran: string[] = [];
    const pools = waitingPools(queue, (id) => void ran.push(id));
    const producer = new Queue({ queue, connection: server.url });
    try {
      for (const pool of pools) await pool.start();
      // each pool's first fetch found nothing: all are waiting for work
      await waitFor('every pool in the waiters list', async () => (await redis.llen(keys.waiters)) === POOLS);
      const tasks = 20;
      const commands = await monitored(server.url, async () => {
        for (let i = 0; i < tasks; i++) {
          await producer.enqueue({ id: `t${i}`, type: 'noop', payload: null });
          await waitFor(`task t${i} run`, () => ran.includes(`t${i}`));
        }
        // the last acks land and every pool is back in the list
        await waitFor('every pool waiting again', async () => (await redis.llen(keys.waiters)) === POOLS, { timeoutMs: 10_000 });
      });
      expect([...ran].sort()).toEqual(Array.from({ length: tasks }, (_, i) => `t${i}`).sort());
      const perTask = fetchCalls(commands, queue) / tasks;
      console.log(`targeted wake: ${POOLS} waiting pools, ${tasks} tasks one at a time: ${perTask.toFixed(2)} fetch-script calls per task`);
      // one fetch that takes the task and one that acks it (and asks for more); every pool fetching would be ~8 or more
      expect(perTask).toBeLessThanOrEqual(2.5);
      expect(new Set(await redis.lrange(keys.waiters, 0, -1))).toEqual(new Set(pools.map((_, i) => `${queue}-${i}`)));
    } finally {
      await producer.close();
      for (const pool of pools) await pool.stop();
    }
    // a pool that stops leaves the list
    expect(await redis.llen(keys.waiters)).toBe(0);
  }, 60_000);

  /** 8 waiting pools (concurrency 2) with this ackLingerMs; `tasks` enqueued each once the one before ran; fetch-script calls per task. */
  async function trickle(queue: string, ackLingerMs: number, tasks: number): Promise<{ perTask: number; doneLagMs: number }> {
    const keys = queueKeys(queue);
    const ran: string[] = [];
    const handlerEnd = new Map<string, number>();
    const pools = waitingPools(
      queue,
      (id) => {
        ran.push(id);
        handlerEnd.set(id, Date.now());
      },
      ackLingerMs,
    );
    const producer = new Queue({ queue, connection: server.url });
    try {
      for (const pool of pools) await pool.start();
      await waitFor('every pool in the waiters list', async () => (await redis.llen(keys.waiters)) === POOLS);
      const commands = await monitored(server.url, async () => {
        for (let i = 0; i < tasks; i++) {
          await producer.enqueue({ id: `t${i}`, type: 'noop', payload: null });
          await waitFor(`task t${i} run`, () => ran.includes(`t${i}`), { pollMs: 0 });
        }
        await waitFor('every pool waiting again', async () => (await redis.llen(keys.waiters)) === POOLS, { timeoutMs: 10_000 });
      });
      // every task Done, the last one's record too although no fetch followed it
      const last = `t${tasks - 1}`;
      await waitFor('the last task Done', async () => (await producer.status(last))?.status === 'Done');
      const statuses = await producer.statuses(Array.from({ length: tasks }, (_, i) => `t${i}`));
      expect([...statuses.values()].map((r) => r?.status)).toEqual(Array.from({ length: tasks }, () => 'Done'));
      const doneAt = (await producer.status(last))?.at ?? 0;
      return { perTask: fetchCalls(commands, queue) / tasks, doneLagMs: doneAt - (handlerEnd.get(last) ?? 0) };
    } finally {
      await producer.close();
      for (const pool of pools) await pool.stop();
    }
  }

  it("at a trickle, a waiting pool's ack lingers for its next fetch (one script call per task, not two); the last ack goes after ackLingerMs", async () => {
    const tasks = 20;
    const lingering = await trickle('linger-on', 200, tasks);
    const off = await trickle('linger-off', 0, tasks);
    console.log(
      `ack linger: ${lingering.perTask.toFixed(2)} fetch-script calls per task with ackLingerMs 200 (last Done ${lingering.doneLagMs} ms after its handler), ${off.perTask.toFixed(2)} with 0 (${off.doneLagMs} ms)`,
    );
    // each task's ack rides with the fetch of the next (the last one's goes alone)
    expect(lingering.perTask).toBeLessThanOrEqual(1.2);
    // without lingering: a fetch and an ack-only call per task
    expect(off.perTask).toBeGreaterThanOrEqual(1.8);
    // the last ack waited for a fetch that never came, then went on its own
    expect(lingering.doneLagMs).toBeGreaterThanOrEqual(150);
    expect(lingering.doneLagMs).toBeLessThan(2000);
  }, 60_000);

  it('a pool that is not listed as waiting (no idle sub-worker besides the one that fetched) sends its acks at once', async () => {
    const queue = 'linger-busy';
    const producer = new Queue({ queue, connection: server.url });
    let ranAt = 0;
    // concurrency 1: the fetch that takes the task leaves no sub-worker idle, so the pool is not in the waiters list
    const pool = new WorkerPool({ queue, connection: server.url, concurrency: 1, ackLingerMs: 1000, janitor: false, handlers: { noop: () => void (ranAt = Date.now()) } });
    try {
      await pool.start();
      await producer.enqueue({ id: 'solo', type: 'noop', payload: null });
      await waitFor('solo Done', async () => (await producer.status('solo'))?.status === 'Done');
      const doneAt = (await producer.status('solo'))?.at ?? 0;
      expect(doneAt - ranAt).toBeLessThan(500);
    } finally {
      await producer.close();
      await pool.stop();
    }
  }, 30_000);

  it('an enqueue wakes the waiters it pops, each on its own channel; a dead waiter is taken out by the janitor', async () => {
    const queue = 'named';
    const keys = queueKeys(queue);
    const sub = new Redis(server.url);
    const messages: string[] = [];
    // the queue's wake channel and every consumer's own
    await sub.psubscribe(`${keys.wake}*`);
    sub.on('pmessage', (_pattern: string, channel: string, message: string) => messages.push(`${channel} ${message}`));
    const producer = new Queue({ queue, connection: server.url });
    try {
      await redis.rpush(keys.waiters, 'old', 'newer', 'newest');
      await producer.enqueueMany([{ type: 'a', payload: 1 }, { type: 'a', payload: 2 }]);
      // the two that waited least, newest first, each told the count on its own channel; nothing on the queue's
      await waitFor('the wake messages', () => messages.length === 2);
      expect(messages).toEqual([`${keys.wakeOf('newest')} 2`, `${keys.wakeOf('newer')} 2`]);
      expect(keys.wakeOf('newest')).toBe('taskq:{named}:wake:newest');
      expect(await redis.lrange(keys.waiters, 0, -1)).toEqual(['old']);
      // with nobody waiting, the count alone on the queue's channel (every idle pool may look)
      await redis.del(keys.waiters);
      await producer.enqueue({ type: 'a', payload: 3 });
      await waitFor('the third wake message', () => messages.length === 3);
      expect(messages[2]).toBe(`${keys.wake} 1`);
      await redis.rpush(keys.waiters, 'old');

      // a consumer that died while waiting (no heartbeat for long): the janitor's recovery takes it out of the list
      await redis.zadd(keys.consumers, 1, 'ghost');
      await redis.rpush(keys.waiters, 'ghost', 'alive');
      const janitor = new Janitor({ queue, connection: server.url, staleAfterMs: 1000 });
      try {
        expect((await janitor.runOnce()).recovered.has('ghost')).toBe(true);
      } finally {
        await janitor.stop();
      }
      expect(await redis.lrange(keys.waiters, 0, -1)).toEqual(['old', 'alive']);
    } finally {
      sub.disconnect();
      await producer.close();
    }
  }, 30_000);

  it('a lone task (none in the ackLingerMs before it) is acked at once, even by a pool listed as waiting', async () => {
    const queue = 'linger-lone';
    const producer = new Queue({ queue, connection: server.url });
    const ranAt = new Map<string, number>();
    // concurrency 2: listed as waiting after each fetch; ackLingerMs 1000 would show plainly
    const pool = new WorkerPool({ queue, connection: server.url, concurrency: 2, ackLingerMs: 1000, janitor: false, handlers: { noop: (task) => void ranAt.set(task.id, Date.now()) } });
    try {
      await pool.start();
      await waitFor('the pool waiting for work', async () => (await redis.lrange(queueKeys(queue).waiters, 0, -1)).length === 1);
      await producer.enqueue({ id: 'first', type: 'noop', payload: null });
      await waitFor('first Done', async () => (await producer.status('first'))?.status === 'Done');
      expect(((await producer.status('first'))?.at ?? 0) - (ranAt.get('first') ?? 0)).toBeLessThan(500);
    } finally {
      await producer.close();
      await pool.stop();
    }
  }, 30_000);

  it('ackLingerMs defaults to 10 ms and must be between 0 and 1000', () => {
    expect(resolvePoolOptions({}).ackLingerMs).toBe(10);
    expect(resolvePoolOptions({ ackLingerMs: 0 }).ackLingerMs).toBe(0);
    for (const bad of [-1, 1001, NaN]) expect(() => resolvePoolOptions({ ackLingerMs: bad })).toThrow(/^ackLingerMs must be >= 0 and <= 1000, got /);
  });
});
