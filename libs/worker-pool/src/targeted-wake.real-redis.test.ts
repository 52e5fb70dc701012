import { Redis } from 'ioredis';
import { monitored, startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { Janitor, Queue, queueKeys } from '@taskq/queue';
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

/** The fetch script's calls among `commands`: EVALSHA/EVAL with fetch's 27 keys, the first the queue's ready list. */
function fetchCalls(commands: readonly { args: string[] }[], queue: string): number {
  const ready = queueKeys(queue).ready;
  return commands.filter((c) => /^eval(sha)?$/i.test(c.args[0] ?? '') && c.args[2] === '27' && c.args[3] === ready).length;
}

describe('targeted wake', () => {
  it(`a task enqueued while ${POOLS} pools wait makes one of them fetch, not all ${POOLS}; every pool waits again afterwards`, async () => {
    const queue = 'targeted';
    const keys = queueKeys(queue);
    const ran: string[] = [];
    const pools = Array.from(
      { length: POOLS },
      (_, i) =>
        new WorkerPool({
          queue,
          connection: server.url,
          consumerId: `pool-${i}`,
          concurrency: 2,
          // no poll and no janitor in the counted window: only wake messages make a pool fetch
          idlePollMs: 60_000,
          janitor: false,
          handlers: { noop: (task) => void ran.push(task.id) },
        }),
    );
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
      expect(new Set(await redis.lrange(keys.waiters, 0, -1))).toEqual(new Set(pools.map((_, i) => `pool-${i}`)));
    } finally {
      await producer.close();
      for (const pool of pools) await pool.stop();
    }
    // a pool that stops leaves the list
    expect(await redis.llen(keys.waiters)).toBe(0);
  }, 60_000);

  it('an enqueue names the waiters it pops in its wake message; a dead waiter is taken out by the janitor', async () => {
    const queue = 'named';
    const keys = queueKeys(queue);
    const sub = new Redis(server.url);
    const messages: string[] = [];
    await sub.subscribe(keys.wake);
    sub.on('message', (_channel: string, message: string) => messages.push(message));
    const producer = new Queue({ queue, connection: server.url });
    try {
      await redis.rpush(keys.waiters, 'old', 'newer', 'newest');
      await producer.enqueueMany([{ type: 'a', payload: 1 }, { type: 'a', payload: 2 }]);
      // the two that waited least, newest first
      await waitFor('the wake message', () => messages.length === 1);
      expect(messages).toEqual(['2 newest newer']);
      expect(await redis.lrange(keys.waiters, 0, -1)).toEqual(['old']);
      // with nobody waiting, the message is the count alone (every idle pool may look)
      await redis.del(keys.waiters);
      await producer.enqueue({ type: 'a', payload: 3 });
      await waitFor('the second wake message', () => messages.length === 2);
      expect(messages[1]).toBe('1');
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
});
