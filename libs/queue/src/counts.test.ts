import { Consumer } from './consumer';
import { readQueueCounts } from './counts';
import { queueKeys } from './keys';
import { Queue } from './queue';
import { closeMocks, mockRedis } from './test-support/mock-redis';

describe('readQueueCounts', () => {
  afterEach(closeMocks);

  it('counts each structure of a queue, the fence without its encoding field, and the oldest ready task of any priority', async () => {
    const { redis } = mockRedis();
    const config = { queue: 'counts', connection: redis };
    const queue = new Queue(config);
    const consumer = new Consumer({ ...config, id: 'c1' });
    await consumer.register();
    const k = queueKeys('counts');
    const empty = await readQueueCounts(redis, k);
    expect(empty).toEqual({ ready: 0, delayed: 0, inProgress: 0, dead: 0, failed: 0, finished: 0, workers: 1, paused: false, oldestReadyAgeSeconds: 0 });

    // the first three are fetched (FIFO) and end Done, Dead and Failed; one more stays InProgress
    await queue.enqueueMany(['done', 'dead', 'rej', 'held'].map((id) => ({ id, type: 't', maxAttempts: 1 })));
    const got = (await consumer.fetch(['1', '2', '3', '4'])).tasks;
    const held = (id: string) => got.find((t) => t.id === id)!;
    expect(await consumer.ack('done', '1', held('done').token)).toBe(true);
    expect(await consumer.fail('dead', '2', held('dead').token, { mode: 'dead', reason: 'x' })).toBe('Dead');
    expect(await consumer.fail('rej', '3', held('rej').token, { mode: 'reject', reason: 'x' })).toBe('Failed');
    await queue.enqueueMany([
      { id: 'plain', type: 't' },
      { id: 'high', type: 't', priority: 9 },
      { id: 'later', type: 't', delayMs: 60_000 },
    ]);
    await queue.pause('counting');
    // the stored enqueue time of the oldest ready task, pushed back an hour: in the prioritized set
    const body = (await redis.hget(k.tasks, 'high'))!;
    const hourAgo = Date.now() - 3_600_000;
    await redis.hset(k.tasks, 'high', body.replace(/^\[\d+,/, `[${hourAgo},`));

    const counts = await readQueueCounts(redis, k);
    expect({ ...counts, oldestReadyAgeSeconds: Math.round(counts.oldestReadyAgeSeconds) }).toEqual({
      ready: 2,
      delayed: 1,
      inProgress: 1,
      dead: 1,
      failed: 1,
      finished: 1,
      workers: 1,
      paused: true,
      oldestReadyAgeSeconds: 3600,
    });

    // finished counts the Done tasks (retained list) and the Cancelled ones (cancelled list)
    expect((await queue.cancel('later')).outcome).toBe('cancelled');
    expect([await redis.llen(k.finished), await redis.llen(k.cancelled)]).toEqual([1, 1]);
    expect(await readQueueCounts(redis, k)).toMatchObject({ delayed: 0, finished: 2 });
  });
});
