import type { Redis } from 'ioredis';
import { silentLogger, type LogFn, type Logger } from '@taskq/recorder';
import { Consumer } from './consumer';
import { queueKeys } from './keys';
import { useRedisServer } from './test-support/redis-server';
import { Queue } from './queue';
import type { DataLoss } from './epoch';

/** Keeps the messages of warn and error calls. */
function keepingLogger(lines: { level: string; msg: string }[]): Logger {
  const keep =
    (level: string): LogFn =>
    (a: object | string, msg?: string) => {
      lines.push({ level, msg: typeof a === 'string' ? a : (msg ?? '') });
    };
  return { ...silentLogger, warn: keep('warn'), error: keep('error'), child: () => keepingLogger(lines) };
}

/** Deletes every key of a queue: what a restart without persistence does to it. */
async function loseQueue(redis: Redis, queue: string): Promise<void> {
  const keys = await redis.keys(`taskq:{${queue}}:*`);
  if (keys.length > 0) await redis.del(...keys);
}

describe("the queue's epoch, on a real redis-server", () => {
  const real = useRedisServer();

  it('is written once, by the first enqueue or registration, as the Redis time in µs, and never changed by later ones', async () => {
    const redis: Redis = real.redis;
    const k = queueKeys('ep-write');
    const queue = new Queue({ queue: 'ep-write', connection: redis });
    const consumer = new Consumer({ queue: 'ep-write', connection: redis, id: 'c1' });
    const before = Date.now();
    await consumer.register();
    const epoch = await redis.get(k.epoch);
    expect(epoch).toMatch(/^\d{16}$/);
    expect(Math.abs(Number(epoch) / 1000 - before)).toBeLessThan(5000);
    expect(consumer.epoch).toBe(epoch);
    await queue.enqueueMany([{ type: 't' }, { type: 't', id: 'given' }]);
    await queue.enqueue('t', null);
    expect(queue.epoch).toBe(epoch);
    expect((await consumer.heartbeat()).epoch).toBe(epoch);
    expect(await redis.get(k.epoch)).toBe(epoch);
    const fetched = await consumer.fetch(['w1']);
    expect(fetched.tasks.map((t) => t.epoch)).toEqual([epoch]);
  });

  it('a consumer whose queue data is lost logs one error saying so (not "presumed dead", not "refused") and refuses to send the old acks', async () => {
    const redis: Redis = real.redis;
    const lines: { level: string; msg: string }[] = [];
    const config = { queue: 'ep-lost', connection: redis };
    const queue = new Queue(config);
    const consumer = new Consumer({ ...config, id: 'c1', logger: keepingLogger(lines) });
    await consumer.register();
    const before = consumer.epoch;
    await queue.enqueueMany([{ type: 't', id: 'a' }, { type: 't', id: 'b' }]);
    const held = (await consumer.fetch(['w1', 'w2'])).tasks;
    expect(held.map((t) => t.id)).toEqual(['a', 'b']);

    await loseQueue(redis, 'ep-lost');
    // the acks of the lost tasks meet a consumer that is not registered: it registers again, finds another epoch
    const reply = await consumer.ackMany(held.map((t) => ({ id: t.id, worker: t.worker, token: t.token })));
    expect(reply).toEqual([false, false]);
    expect(consumer.epoch).not.toBe(before);
    expect(lines.map((l) => l.level)).toEqual(['error']);
    expect(lines[0].msg).toMatch(
      /^Redis lost queue ep-lost's data: its data since .* is gone; Redis has the queue's data since .*; the tasks consumer c1 held are unknown to Redis now, their outcomes cannot be recorded$/,
    );
    // nothing was written for them in the new data
    expect(await redis.hlen(queueKeys('ep-lost').status)).toBe(0);
    // and the next heartbeat is an ordinary one
    expect((await consumer.heartbeat()).alive).toBe(true);
    expect(lines).toHaveLength(1);
  });

  it('heartbeat after the loss: registers again and reports the loss to the listener, without "presumed dead"', async () => {
    const redis: Redis = real.redis;
    const lines: { level: string; msg: string }[] = [];
    const losses: DataLoss[] = [];
    const consumer = new Consumer({ queue: 'ep-beat', connection: redis, id: 'c1', logger: keepingLogger(lines) });
    consumer.onDataLost((loss) => losses.push(loss));
    await consumer.register();
    await loseQueue(redis, 'ep-beat');
    const beat = await consumer.heartbeat();
    expect(beat.alive).toBe(false);
    expect(losses).toHaveLength(1);
    expect(losses[0].after).toBe(consumer.epoch);
    expect(lines).toEqual([]); // the listener reports it (a pool logs it with the tasks it runs)
    expect(await redis.zscore(queueKeys('ep-beat').consumers, 'c1')).not.toBeNull();
    // presumed dead by a janitor (the registration removed, the data kept): still said so
    await redis.zrem(queueKeys('ep-beat').consumers, 'c1');
    await consumer.heartbeat();
    expect(lines.map((l) => l.msg)).toEqual(['consumer c1 was presumed dead; its tasks went back to the queue; registered again']);
    expect(losses).toHaveLength(1);
  });

  it('an ack refused because Redis went back to an older snapshot (the seq counter below the token) is a loss, not a refusal', async () => {
    const redis: Redis = real.redis;
    const lines: { level: string; msg: string }[] = [];
    const config = { queue: 'ep-back', connection: redis };
    const k = queueKeys('ep-back');
    const queue = new Queue(config);
    const consumer = new Consumer({ ...config, id: 'c1', logger: keepingLogger(lines) });
    await consumer.register();
    await queue.enqueue('t', null, { id: 'x' });
    const [task] = (await consumer.fetch(['w1'])).tasks;
    // the snapshot had the task Queued: no token, the seq counter before the fetch
    await redis.hdel(k.fence, 'x');
    await redis.set(k.seq, '1');
    expect(await consumer.ack(task.id, task.worker, task.token)).toBe(false);
    expect(lines.map((l) => l.level)).toEqual(['error']);
    expect(lines[0].msg).toMatch(/^Redis lost queue ep-back's latest data: its seq counter is at 1, below 2 seen before/);
    // an ordinary refusal (the task was taken back) is still a warning
    await queue.enqueue('t', null, { id: 'y' });
    const [other] = (await consumer.fetch(['w1'])).tasks;
    await redis.hdel(k.fence, 'y');
    expect(await consumer.ack(other.id, other.worker, other.token)).toBe(false);
    expect(lines.map((l) => l.level)).toEqual(['error', 'warn']);
    expect(lines[1].msg).toBe('ack of y refused: this fetch no longer holds the task (it was recovered or released)');
  });
});
