import { Consumer, Queue, queueKeys } from '@taskq/queue';
import { CaptureLogger } from './test-support/capture-logger';
import { recorded, recordedMany } from './test-support/recorded';
import { newQueueName, RedisClients } from './test-support/redis-fixture';

const clients = new RedisClients();

afterEach(() => clients.close());

async function setup(label: string) {
  const name = newQueueName(label);
  const redis = await clients.connect();
  return { redis, keys: queueKeys(name), queue: new Queue({ queue: name, connection: redis }) };
}

describe('enqueue with a caller-given id', () => {
  it('twice: one task; the second call changes nothing and returns the first task (payload, type, enqueuedAt)', async () => {
    const { redis, keys, queue } = await setup('idem');
    const id = `${queue.name}-order-17`;
    const first = await queue.enqueue({ id, type: 'sleep', payload: { ms: 10 }, maxAttempts: 5 });
    const state = { stored: await redis.hget(keys.tasks, id), status: await recorded(redis, keys, id), seq: await redis.get(keys.seq) };

    const second = await queue.enqueue({ id, type: 'other', payload: { ms: 999 }, maxAttempts: 1, delayMs: 60_000 });
    expect(second).toEqual(first);
    expect(second).toMatchObject({ id, type: 'sleep', payload: { ms: 10 }, maxAttempts: 5, enqueuedAt: first.enqueuedAt });
    expect(await redis.lrange(keys.ready, 0, -1)).toEqual([id]);
    expect(await redis.zcard(keys.delayed)).toBe(0);
    expect({ stored: await redis.hget(keys.tasks, id), status: await recorded(redis, keys, id), seq: await redis.get(keys.seq) }).toEqual(state);
  });

  it('in one enqueueMany, among new ids, and from two producers at once: each id is one task', async () => {
    const { redis, keys, queue } = await setup('idem-many');
    const [a, b, c] = ['a', 'b', 'c'].map((s) => `${queue.name}-${s}`) as [string, string, string];
    const existing = await queue.enqueue({ id: a, type: 'sleep', payload: { ms: 1 } });

    const tasks = await queue.enqueueMany([
      { id: b, type: 'sleep', payload: { ms: 2 } },
      { id: a, type: 'sleep', payload: { ms: 3 } },
      { id: b, type: 'sleep', payload: { ms: 4 } },
    ]);
    expect(tasks.map((t) => [t.id, t.payload])).toEqual([
      [b, { ms: 2 }],
      [a, { ms: 1 }],
      [b, { ms: 2 }],
    ]);
    expect(tasks[1]?.enqueuedAt).toBe(existing.enqueuedAt);

    const other = new Queue({ queue: queue.name, connection: await clients.connect() });
    const racing = await Promise.all([
      queue.enqueue({ id: c, type: 'sleep', payload: { from: 1 } }),
      other.enqueue({ id: c, type: 'sleep', payload: { from: 2 } }),
    ]);
    expect(racing[0]).toEqual(racing[1]);
    expect((await redis.lrange(keys.ready, 0, -1)).sort()).toEqual([a, b, c].sort());
    expect(await redis.hlen(keys.tasks)).toBe(3);
    // waiting tasks have their body only; their Queued record is read from it
    expect(await redis.hlen(keys.status)).toBe(0);
    expect((await recordedMany(redis, keys, [a, b, c])).map((r) => r?.status)).toEqual(['Queued', 'Queued', 'Queued']);
  });

  it('of a task that already finished: returns it and does not run it again', async () => {
    const { redis, keys, queue } = await setup('idem-done');
    const id = `${queue.name}-once`;
    const first = await queue.enqueue({ id, type: 'sleep', payload: { ms: 1 } });
    const consumer = new Consumer({ queue: queue.name, connection: redis, logger: new CaptureLogger() });
    await consumer.register();
    const [fetched] = (await consumer.fetch(['w1'])).tasks;
    expect(await consumer.ack(id, 'w1', fetched?.token ?? '')).toBe(true);
    const done = await recorded(redis, keys, id);

    expect(await queue.enqueue({ id, type: 'sleep', payload: { ms: 1 } })).toEqual(first);
    expect(await redis.llen(keys.ready)).toBe(0);
    expect(await recorded(redis, keys, id)).toEqual(done);
  });
});
