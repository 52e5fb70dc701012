import { Consumer } from './consumer';
import { Janitor } from './janitor';
import { queueKeys } from './keys';
import { Queue } from './queue';
import { recoverConsumer } from './recover';
import { closeMocks, mockRedis } from './test-support/mock-redis';
import { readConsumers, readThroughput } from './throughput';
import type { Redis } from 'ioredis';

const config = { queue: 'tp' };
const k = queueKeys('tp');
const MINUTE = 60_000;

/** Redis's clock, ms (what the scripts count by). */
async function redisNow(redis: Redis): Promise<number> {
  const [s, us] = await redis.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

const minuteOf = (ms: number): number => ms - (ms % MINUTE);

/** The throughput hash as { '<minute>:<outcome>': count }. */
async function fields(redis: Redis): Promise<Record<string, number>> {
  return Object.fromEntries(Object.entries(await redis.hgetall(k.throughput)).map(([f, v]) => [f, Number(v)]));
}

describe('throughput: outcomes per minute', () => {
  afterEach(closeMocks);

  it('acks count as done, retry/dead/reject as failed, a cancel as neither, each in the minute of Redis time they were recorded', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const consumer = new Consumer({ ...config, id: 'c1', connection: redis });
    await consumer.register();
    await queue.enqueueMany(Array.from({ length: 8 }, (_, i) => ({ id: `t${i}`, type: 'x' })));
    const before = await redisNow(redis);
    const { tasks } = await consumer.fetch(['w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8']);
    expect(tasks).toHaveLength(8);
    const [a, b, c, d, e, f, g, h] = tasks;
    // three acks in one call, then one more with a fetch
    expect((await consumer.ackMany([a, b, c].map((t) => ({ id: t.id, worker: t.worker, token: t.token }))))).toEqual([true, true, true]);
    await consumer.exchange([{ id: d.id, worker: d.worker, token: d.token }], []);
    expect(await consumer.fail(e.id, e.worker, e.token, { mode: 'retry', reason: 'boom', delayMs: 60_000 })).toBe('Retrying');
    expect(await consumer.fail(f.id, f.worker, f.token, { mode: 'dead', reason: 'boom' })).toBe('Dead');
    expect(await consumer.fail(g.id, g.worker, g.token, { mode: 'reject', reason: 'no handler' })).toBe('Failed');
    expect(await consumer.fail(h.id, h.worker, h.token, { mode: 'cancel', reason: 'cancelled' })).toBe('Cancelled');
    // a refused ack (stale token) counts nothing
    expect(await consumer.ack(a.id, a.worker, a.token)).toBe(false);
    const after = await redisNow(redis);

    const counted = await fields(redis);
    const total = (outcome: string) => Object.entries(counted).filter(([field]) => field.endsWith(`:${outcome}`)).reduce((sum, [, n]) => sum + n, 0);
    expect({ done: total('done'), failed: total('failed') }).toEqual({ done: 4, failed: 3 });
    for (const field of Object.keys(counted)) {
      const minute = Number(field.split(':')[0]);
      expect(minute % MINUTE).toBe(0);
      expect(minute).toBeGreaterThanOrEqual(minuteOf(before));
      expect(minute).toBeLessThanOrEqual(minuteOf(after));
    }

    const last = await readThroughput(redis, k, 15);
    expect(last).toHaveLength(15);
    expect(last.reduce((sum, m) => sum + m.done, 0)).toBe(4);
    expect(last.reduce((sum, m) => sum + m.failed, 0)).toBe(3);
  });

  it('a task whose worker died too often is Dead through recover, and counted failed; one put back is not', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const consumer = new Consumer({ ...config, id: 'c1', connection: redis });
    await consumer.register();
    await queue.enqueueMany([{ id: 'doomed', type: 'x' }, { id: 'lucky', type: 'x' }]);
    await consumer.fetch(['w1', 'w2']);
    // doomed has been recovered from dead workers before: this recovery is its last
    await redis.hset(k.recoveries, 'doomed', '1');
    // its last heartbeat long ago (ioredis-mock's TIME — whole seconds rounded up or down — could date the registration
    // after "now", and the consumer was not stale yet: -1 in a CI run)
    await redis.zadd(k.consumers, 1, 'c1');
    const n = await recoverConsumer(redis, k, { consumerId: 'c1', staleAfterMs: 0, reason: 'test', maxRecoveries: 2, deadMax: 100 });
    expect(n).toBe(1); // lucky goes back
    const counted = await fields(redis);
    expect(Object.entries(counted).map(([field, count]) => [field.split(':')[1], count])).toEqual([['failed', 1]]);
  });

  it('readThroughput: the last N minutes oldest first, zeros where nothing was counted, the current minute last', async () => {
    const { redis } = mockRedis();
    const now = await redisNow(redis);
    const current = minuteOf(now);
    await redis.hset(k.throughput, `${current}:done`, '7', `${current - 2 * MINUTE}:done`, '3', `${current - 2 * MINUTE}:failed`, '1', `${current - 20 * MINUTE}:done`, '99');
    const got = await readThroughput(redis, k, 3);
    // (a minute may have begun since `now`: then everything is one minute later)
    const end = got[2].at;
    expect([current, current + MINUTE]).toContain(end);
    const expected = [
      { at: end - 2 * MINUTE, done: end === current ? 3 : 0, failed: end === current ? 1 : 0 },
      { at: end - MINUTE, done: 0, failed: 0 },
      { at: end, done: end === current ? 7 : 0, failed: 0 },
    ];
    expect(got).toEqual(expected);
    expect((await readThroughput(redis, k, 15)).map((m) => m.at)).toEqual(Array.from({ length: 15 }, (_, i) => end - (14 - i) * MINUTE));
    await expect(readThroughput(redis, k, 0)).rejects.toThrow(RangeError);
    await expect(readThroughput(redis, k, 61)).rejects.toThrow(RangeError);
  });

  it('the janitor forgets the counts of minutes older than an hour, and keeps the rest', async () => {
    const { redis } = mockRedis();
    const current = minuteOf(await redisNow(redis));
    const old = current - 61 * MINUTE;
    // well inside the hour: the in-memory Redis's clock in Lua and in TIME have been seen a minute apart (CI, loaded host)
    const kept = current - 55 * MINUTE;
    await redis.hset(k.throughput, `${old}:done`, '5', `${old}:failed`, '2', `${kept}:done`, '4', `${current}:failed`, '1', 'not a minute', '1');
    const pass = await new Janitor({ ...config, connection: redis }).runOnce();
    expect(pass.ran).toBe(true);
    expect(await fields(redis)).toEqual({ [`${kept}:done`]: 4, [`${current}:failed`]: 1 });
  });

  it('readConsumers: each registered consumer and its last heartbeat, the latest first', async () => {
    const { redis } = mockRedis();
    await redis.zadd(k.consumers, 1000, 'old', 3000, 'new');
    expect(await readConsumers(redis, k)).toEqual([
      { id: 'new', lastHeartbeatAt: 3000 },
      { id: 'old', lastHeartbeatAt: 1000 },
    ]);
  });
});
