import { decodeStatusRecord } from '@taskq/recorder';
import { queueKeys } from './keys';
import { Consumer } from './consumer';
import { Janitor } from './janitor';
import { Queue } from './queue';
import { closeMocks, mockRedis } from './test-support/mock-redis';

const config = { queue: 'jan' };
const k = queueKeys('jan');

describe('Janitor (ioredis-mock)', () => {
  afterEach(closeMocks);

  it('returns the tasks of a consumer with stale heartbeats to the ready list, recorded Queued', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const dead = new Consumer({ ...config, id: 'dead', connection: redis });
    const alive = new Consumer({ ...config, id: 'alive', connection: redis });
    await dead.register();
    await alive.register();
    await queue.enqueueMany([{ id: 't1', type: 'x' }, { id: 't2', type: 'x' }, { id: 't3', type: 'x' }]);
    const held = (await dead.fetch(['d1', 'd2'])).tasks;
    await alive.fetch(['a1']);
    // the dead consumer's last heartbeat is a minute old; the live one beat just now
    await redis.zadd(k.consumers, Date.now() - 60_000, 'dead');

    const janitor = new Janitor({ ...config, staleAfterMs: 5000, connection: redis });
    const pass = await janitor.runOnce();
    expect(pass.ran).toBe(true);
    expect([...pass.recovered]).toEqual([['dead', 2]]);
    expect(await queue.processingIds('dead')).toEqual([]);
    expect(await queue.processingIds('alive')).toEqual(['t3']);
    expect((await queue.consumers()).has('dead')).toBe(false);
    expect(new Set(await redis.lrange(k.ready, 0, -1))).toEqual(new Set(['t1', 't2']));
    const rec = decodeStatusRecord((await redis.hget(k.status, 't1'))!);
    expect(rec.status).toBe('Queued');
    expect(rec.reason).toMatch(/dead consumer dead/);

    // its next heartbeat tells it it had been presumed dead (and registers it again)
    expect((await dead.heartbeat()).alive).toBe(false);
    expect((await dead.heartbeat()).alive).toBe(true);
    // its late ack is refused and does not change the status
    expect(await dead.ack('t1', 'd1', held.find((t) => t.id === 't1')!.token)).toBe(false);
    expect(decodeStatusRecord((await redis.hget(k.status, 't1'))!).status).toBe('Queued');
  });

  it('with queues: one pass looks after each, each under its own mutex, and sums what they returned', async () => {
    const { redis } = mockRedis();
    for (const name of ['jan-a', 'jan-b']) {
      const c = new Consumer({ queue: name, id: 'dead', connection: redis });
      await c.register();
      await new Queue({ queue: name, connection: redis }).enqueueMany([{ id: 't1', type: 'x' }, { id: 't2', type: 'x' }]);
      await c.fetch(['w1', name === 'jan-a' ? 'w2' : 'w1']);
      await redis.zadd(queueKeys(name).consumers, Date.now() - 60_000, 'dead');
    }
    // queue jan-b's mutex is held by another process: this pass skips jan-b only
    await redis.set(queueKeys('jan-b').janitorLock, 'someone else', 'PX', 10_000);
    const janitor = new Janitor({ queue: 'jan-a', queues: ['jan-a', 'jan-b'], staleAfterMs: 5000, connection: redis });
    const first = await janitor.runOnce();
    expect({ ran: first.ran, recovered: [...first.recovered] }).toEqual({ ran: true, recovered: [['dead', 2]] });
    expect(await redis.llen(queueKeys('jan-b').ready)).toBe(0);
    await redis.del(queueKeys('jan-b').janitorLock);
    const second = await janitor.runOnce();
    expect([...second.recovered]).toEqual([['dead', 2]]);
    expect(await redis.llen(queueKeys('jan-a').ready)).toBe(2);
    expect(await redis.llen(queueKeys('jan-b').ready)).toBe(2);
    expect(janitor.stats.recovered).toBe(4);
  });

  it('recovers an id that is twice in the processing list of a dead consumer once', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const dead = new Consumer({ ...config, id: 'dead', connection: redis });
    await dead.register();
    await queue.enqueue({ id: 'dup', type: 'x' });
    await dead.fetch(['d1']);
    await redis.lpush(k.processing('dead'), 'dup'); // a second copy, however it got there
    await redis.zadd(k.consumers, Date.now() - 60_000, 'dead');
    const pass = await new Janitor({ ...config, staleAfterMs: 5000, connection: redis }).runOnce();
    expect([...pass.recovered]).toEqual([['dead', 1]]);
    expect(await redis.lrange(k.ready, 0, -1)).toEqual(['dup']);
    expect(decodeStatusRecord((await redis.hget(k.status, 'dup'))!)).toMatchObject({ status: 'Queued', attempt: 0 });
    expect(await redis.hget(k.recoveries, 'dup')).toBe('1');
  });

  it('does nothing while another process holds the janitor mutex', async () => {
    const { redis } = mockRedis();
    await redis.set(k.janitorLock, 'someone-else', 'PX', 10_000);
    const pass = await new Janitor({ ...config, connection: redis }).runOnce();
    expect(pass.ran).toBe(false);
  });

  it('leaves a consumer alone when it is within the stale limit', async () => {
    const { redis } = mockRedis();
    const queue = new Queue({ ...config, connection: redis });
    const c = new Consumer({ ...config, id: 'fresh', connection: redis });
    await c.register();
    await queue.enqueue({ id: 'f', type: 'x' });
    await c.fetch(['w']);
    const pass = await new Janitor({ ...config, staleAfterMs: 5000, connection: redis }).runOnce();
    expect(pass.recovered.size).toBe(0);
    expect(await queue.processingIds('fresh')).toEqual(['f']);
  });
});
