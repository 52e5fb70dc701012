import type { Redis } from 'ioredis';
import { Queue, FENCE_ENCODING_FIELD, queueKeys, type QueueKeys } from '@taskq/queue';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { AppProcess, killAllApps, line } from './test-support/app-process';
import { processingLists } from './test-support/queue-state';
import { newQueueName, RedisClients, testRedisUrl } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

const clients = new RedisClients();
const servers: RedisServer[] = [];

afterEach(async () => {
  await killAllApps();
  await clients.close();
  for (const server of servers.splice(0)) await server.stop();
});

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

/** Sizes of everything the queue keeps per task. */
async function sizes(redis: Redis, keys: QueueKeys) {
  const [status, tasks, attempts, finished, fence, history, results] = await Promise.all([
    redis.hlen(keys.status),
    redis.hlen(keys.tasks),
    redis.hlen(keys.attempts),
    redis.llen(keys.finished),
    // tokens held: every field but the one that keeps the hash a hashtable
    redis.hkeys(keys.fence).then((fields) => fields.filter((f) => f !== FENCE_ENCODING_FIELD).length),
    redis.hlen(keys.history),
    // the sleep task's results ({ sleptMs }), forgotten with their tasks
    redis.hlen(keys.results),
  ]);
  return { status, tasks, attempts, finished, fence, history, results };
}

const BATCH = 2000;
const KEEP = 200;

describe('retention', () => {
  it('keeps Redis memory level while a worker drains a stream of tasks: 3 × 2000 tasks, at most 200 remembered after each', async () => {
    // A server of this test's own: used_memory must not move with other tests' work.
    const server = await startRedisServer();
    servers.push(server);
    const queue = newQueueName('retention');
    const keys = queueKeys(queue);
    const redis = await clients.connectServer(server.url);
    const q = new Queue({ queue, connection: redis });
    const worker = AppProcess.start('worker', [
      '8', '--redis', server.url, '--queue', queue, '--retention-max-count', String(KEEP), '--retention-max-age-ms', '600000', '--log-level', 'warn',
    ]);
    await waitUntil(async () => (await q.consumers()).size === 1, { timeoutMs: 10_000, what: 'the worker to register', details: () => worker.tail() });

    const memory: number[] = [];
    for (let batch = 1; batch <= 3; batch++) {
      const ids = Array.from({ length: BATCH }, (_, i) => `${queue}-b${batch}-${i}`);
      await q.enqueueMany(ids.map((id) => ({ id, type: 'sleep', payload: { ms: 0 } })));
      // every task records exactly Queued, InProgress and Done: the counter says when all are Done
      await waitUntil(async () => Number(await redis.get(keys.seq)) >= 3 * BATCH * batch, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: `batch ${batch} to be Done`,
        details: () => worker.tail(),
      });
      // the janitor's next pass (every second) forgets the oldest beyond 200
      let remembered = 0;
      await waitUntil(async () => (remembered = await redis.hlen(keys.status)) <= KEEP, {
        timeoutMs: 5000,
        intervalMs: 100,
        what: `the status hash to shrink to ${KEEP} after batch ${batch}`,
        details: () => `it holds ${remembered}\n${worker.tail()}`,
      });
      // a Done task's attempt count is in its record, not in the attempts hash
      expect(await sizes(redis, keys)).toEqual({ status: KEEP, tasks: KEEP, attempts: 0, finished: KEEP, fence: 0, history: 0, results: KEEP });
      // the newest are the ones kept
      expect(await redis.hexists(keys.status, ids[BATCH - 1])).toBe(1);
      expect(await redis.hexists(keys.status, ids[0])).toBe(0);
      expect(await q.result(ids[BATCH - 1])).toEqual({ sleptMs: 0 });
      expect(await q.result(ids[0])).toBeUndefined();
      expect(await redis.llen(keys.ready)).toBe(0);
      expect(await processingLists(redis, keys)).toEqual({});
      // the fence hash is a hashtable although it holds no token now
      expect(await redis.object('ENCODING', keys.fence)).toBe('hashtable');
      memory.push(await usedMemory(redis));
    }
    const [first = 0, , third = 0] = memory;
    // the same 200 tasks' worth of data after each batch: memory is level, not 3 × 1800 tasks higher
    expect(third - first).toBeLessThan(256 * 1024);
    expect(third / first).toBeLessThan(1.3);
    expect(worker.stderr).toBe('');
    expect(worker.exitInfo).toBeUndefined();
  });

  it('applies --retention-max-count to the Done and the Cancelled tasks each: 5 of each leave the newest 3 of each', async () => {
    const queue = newQueueName('retention-each');
    const keys = queueKeys(queue);
    const redis = await clients.connect();
    const q = new Queue({ queue, connection: redis });
    const worker = AppProcess.start('worker', ['2', '--redis', testRedisUrl(), '--queue', queue, '--retention-max-count', '3']);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    const done = Array.from({ length: 5 }, (_, i) => `${queue}-done-${i}`);
    const cancelled = Array.from({ length: 5 }, (_, i) => `${queue}-cxl-${i}`);
    await q.enqueueMany(cancelled.map((id) => ({ id, type: 'sleep', payload: { ms: 1 }, delayMs: 600_000 })));
    for (const id of cancelled) expect((await q.cancel(id)).outcome).toBe('cancelled');
    for (const id of done) await q.enqueue({ id, type: 'sleep', payload: { ms: 1 } });
    await waitUntil(async () => [...(await q.statuses(done)).values()].every((r) => r?.status === 'Done'), {
      timeoutMs: 10_000,
      what: 'the five tasks to be Done',
      details: () => worker.tail(),
    });
    // the janitor's next pass (every second) trims each list to its newest 3
    await waitUntil(async () => (await redis.llen(keys.finished)) === 3 && (await redis.llen(keys.cancelled)) === 3, {
      timeoutMs: 5000,
      what: 'both retention lists to shrink to 3',
      details: () => worker.tail(),
    });
    expect(await redis.lrange(keys.cancelled, 0, -1)).toEqual(cancelled.slice(2).reverse());
    expect((await q.listTasks('Cancelled')).tasks.map((t) => t.id)).toEqual(cancelled.slice(2).reverse());
    expect((await q.listTasks('Done')).tasks.map((t) => t.record.status)).toEqual(['Done', 'Done', 'Done']);
    for (const id of cancelled.slice(0, 2)) expect(await redis.hexists(keys.status, id)).toBe(0);
    expect(await redis.hlen(keys.status)).toBe(6);
    // the Done tasks' results: the kept ones only
    expect((await redis.hkeys(keys.results)).sort()).toEqual(done.slice(2).sort());
  });

  it('caps the dead-letter list: with --dead-max 5, 10 dead tasks leave the newest 5, and the dropped ones are forgotten', async () => {
    const queue = newQueueName('dead-max');
    const keys = queueKeys(queue);
    const redis = await clients.connect();
    const q = new Queue({ queue, connection: redis });
    const worker = AppProcess.start('worker', ['1', '--redis', testRedisUrl(), '--queue', queue, '--dead-max', '5']);
    await worker.waitForLine(line.poolReady, 'the pool-ready line');
    const ids = Array.from({ length: 10 }, (_, i) => `${queue}-${i + 1}`);
    await q.enqueueMany(ids.map((id) => ({ id, type: 'sleep', payload: { ms: 1, failAttempts: 1 }, maxAttempts: 1 })));

    const failed = await worker.waitForLines((l) => l.msg.startsWith('FAILED ') && l.msg.endsWith('-> Dead'), 10, 'ten FAILED … -> Dead lines');
    // one sub-worker takes them in order; the list keeps the 5 that died last, newest first
    const order = failed.map((l) => String(l['taskId']));
    expect(order).toEqual(ids);
    const kept = order.slice(5).reverse();
    expect(await q.deadIds()).toEqual(kept);
    for (const id of kept) {
      const letter = await q.deadLetter(id);
      expect(letter.status).toMatchObject({ status: 'Dead', attempt: 1 });
      expect(letter.task).toMatchObject({ id, type: 'sleep' });
      expect(letter.history).toHaveLength(1);
    }
    for (const id of order.slice(0, 5)) {
      const [status, task, attempts, history, fence] = await Promise.all([
        redis.hget(keys.status, id),
        redis.hget(keys.tasks, id),
        redis.hget(keys.attempts, id),
        redis.hget(keys.history, id),
        redis.hget(keys.fence, id),
      ]);
      expect({ id, status, task, attempts, history, fence }).toEqual({ id, status: null, task: null, attempts: null, history: null, fence: null });
    }
    expect(await redis.hlen(keys.status)).toBe(5);
    expect(await redis.hlen(keys.tasks)).toBe(5);
    // a dropped task is gone: requeueing it does nothing
    expect(await q.requeueDead([order[0]])).toEqual([]);
  });
});
