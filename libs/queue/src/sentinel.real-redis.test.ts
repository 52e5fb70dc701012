import type { Redis } from 'ioredis';
import { freePort, respCommand, startRedisSentinel, startRedisServer, type RedisSentinelGroup, type RedisServer } from '@taskq/redis-harness';
import { connectRedis, connectRedisClient } from './connect';
import { NotReplicatedError } from './errors/not-replicated-error';
import { RedisConnectionError } from './errors/redis-connection-error';
import { Queue } from './queue';

// A master found through Redis Sentinel (redis+sentinel:// URLs), and waiting
// for replicas after an enqueue (waitForReplicas).

let group: RedisSentinelGroup;
const closers: (() => Promise<unknown> | void)[] = [];

beforeAll(async () => {
  group = await startRedisSentinel();
}, 30_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await group?.stop();
});

/** Resolves once `check` is true; rejects after `timeoutMs` naming `what`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether the server on `port` has a client connection named `name`. */
async function hasClient(port: number, name: string): Promise<boolean> {
  return String(await respCommand(port, ['CLIENT', 'LIST'])).includes(` name=${name} `);
}

/** Subscribed connections on the sentinels: the failoverDetectors of clients. */
async function sentinelSubscribers(): Promise<number> {
  let n = 0;
  for (const s of group.sentinels) n += (String(await respCommand(s.port, ['CLIENT', 'LIST'])).match(/ sub=[1-9]/g) ?? []).length;
  return n;
}

async function failure(promise: Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (err) {
    return { err, ms: Date.now() - started };
  }
  throw new Error('it did not fail');
}

describe('redis+sentinel:// URLs', () => {
  it('connect to the master the sentinels name, under the connection name given', async () => {
    const redis = await connectRedisClient(group.url, { connectionName: 'sentinel-probe' });
    closers.push(() => redis.disconnect());
    await redis.set('probe', 'x');
    const master = await group.masterPort();
    expect(await respCommand(master, ['GET', 'probe'])).toBe('x');
    expect(await hasClient(master, 'sentinel-probe')).toBe(true);
  });

  it('fail within the connect timeout, naming the sentinels, when none answers or they know no such master', async () => {
    const closed = await freePort();
    const unreachable = await failure(connectRedisClient(`redis+sentinel://:secret@127.0.0.1:${closed}/mymaster`, { connectTimeoutMs: 700 }));
    expect(unreachable.err).toBeInstanceOf(RedisConnectionError);
    expect((unreachable.err as Error).message).toContain(`cannot connect to Redis at redis+sentinel://***@127.0.0.1:${closed}/mymaster within 700 ms`);
    expect((unreachable.err as Error).message).not.toContain('secret');
    expect(unreachable.ms).toBeLessThan(3000);

    const unknownUrl = group.url.replace(/\/mymaster$/, '/nosuchmaster');
    const unknown = await failure(connectRedisClient(unknownUrl, { connectTimeoutMs: 700 }));
    expect(unknown.err).toBeInstanceOf(RedisConnectionError);
    expect((unknown.err as Error).message).toBe(`cannot connect to Redis at ${unknownUrl}: the sentinels watch no master of that name (ERR No such master with that name)`);
    expect(unknown.ms).toBeLessThan(700);
  });

  it('quit() leaves neither a sentinel connection nor a timer behind (the process can exit at once)', async () => {
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const detectorsBefore = await sentinelSubscribers();
    const timersBefore = timers();
    const redis = await connectRedisClient(group.url);
    await redis.set('probe', 'y');
    await until('its failover detector on the sentinels', async () => (await sentinelSubscribers()) > detectorsBefore);
    const ended = new Promise((resolve) => redis.once('end', resolve));
    await redis.quit();
    await ended;
    await until('no sentinel connection left by the quit client', async () => (await sentinelSubscribers()) === detectorsBefore);
    // a disconnect() of the connector after QUIT armed its 2 s disconnectTimeout for a socket closed already: the process lived 2 s on
    expect(timers()).toBeLessThanOrEqual(timersBefore);
  });
});

describe('waitForReplicas', () => {
  it('resolves an enqueue once the replica has the tasks', async () => {
    const detectorsBefore = await sentinelSubscribers();
    const queue = new Queue({ queue: 'replicated', connection: group.url, waitForReplicas: { replicas: 1, timeoutMs: 2000 } });
    closers.push(() => queue.close());
    const master = await group.masterPort();
    const replica = group.servers.find((s) => s.port !== master)!;
    const tasks = await queue.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ type: 'noop', payload: i })));
    // read on the replica right after the enqueue resolved: every task is there already
    for (const task of tasks) expect(await respCommand(replica.port, ['HEXISTS', queue.keys.tasks, task.id])).toBe(1);
    // its client listened to the sentinels (+switch-master); closed (QUIT), it leaves no connection to them
    expect(await sentinelSubscribers()).toBeGreaterThan(detectorsBefore);
    await queue.close();
    await until('no sentinel connection left by the closed queue', async () => (await sentinelSubscribers()) === detectorsBefore);
  }, 30_000);

  it('rejects with NotReplicatedError, the tasks left queued on the master, when no replica confirms them in time', async () => {
    const lonely: RedisServer = await startRedisServer();
    closers.push(() => lonely.stop());
    const queue = new Queue({ queue: 'lonely', connection: lonely.url, waitForReplicas: { replicas: 1, timeoutMs: 200 } });
    closers.push(() => queue.close());
    const { err, ms } = await failure(queue.enqueue({ id: 'w1', type: 'noop', payload: null }));
    expect(err).toBeInstanceOf(NotReplicatedError);
    expect(err).toMatchObject({ code: 'TASKQ_NOT_REPLICATED', replicas: 0, wanted: 1, timeoutMs: 200, taskIds: ['w1'] });
    expect((err as Error).message).toBe('1 task(s) of queue lonely (w1) written to the master, but only 0 of 1 replica(s) confirmed it within 200 ms: a failover before they get it would lose it');
    expect(ms).toBeGreaterThanOrEqual(190);
    expect((await queue.status('w1'))?.status).toBe('Queued');
  });

  it('does not take a WAIT sent over a new connection (after a reconnect, as at a failover) for a confirmation of writes sent over the old one', async () => {
    const client = await connectRedisClient(group.url);
    closers.push(() => client.disconnect());
    const queue = new Queue({ queue: 'relinked', connection: client, waitForReplicas: { replicas: 1, timeoutMs: 1000 } });
    closers.push(() => queue.close());
    const target = client as unknown as { wait: (...args: unknown[]) => Promise<number>; disconnect: (reconnect: boolean) => void; once: (event: string, fn: () => void) => void };
    const wait = target.wait.bind(client);
    let reconnected = false;
    target.wait = async (...args: unknown[]) => {
      // the connection drops after the enqueue went out; the WAIT goes over the new one, which wrote nothing
      const ready = new Promise<void>((resolve) => target.once('ready', resolve));
      target.disconnect(true);
      await ready;
      reconnected = true;
      return wait(...args);
    };
    const { err } = await failure(queue.enqueue({ id: 'relinked-1', type: 'noop', payload: null }));
    expect(reconnected).toBe(true);
    expect(err).toBeInstanceOf(NotReplicatedError);
    expect(err).toMatchObject({ replicas: 0, wanted: 1, taskIds: ['relinked-1'] });
  });

  it('refuses a bad setting at once', () => {
    expect(() => new Queue({ connection: group.url, waitForReplicas: { replicas: 0 } })).toThrow('waitForReplicas.replicas must be an integer of 1 or more, got 0');
    expect(() => new Queue({ connection: group.url, waitForReplicas: { replicas: 1, timeoutMs: -1 } })).toThrow('waitForReplicas.timeoutMs must be an integer of 0 or more, got -1');
  });
});

describe('a failover with the old master alive', () => {
  it('moves a client to the new master at once (failoverDetector); a client that does not listen writes to the old master until it is made a replica, and those writes are lost', async () => {
    const follower = await connectRedisClient(group.url, { connectionName: 'sentinel-follower' });
    closers.push(() => follower.disconnect());
    // what a client without taskq's failoverDetector does: it stays on the old master while that takes writes
    const sleeper: Redis = await connectRedis({ sentinels: [...group.sentinelAddresses], name: group.name, failoverDetector: false }, { connectionName: 'sentinel-sleeper' });
    closers.push(() => sleeper.disconnect());
    const queue = new Queue({ queue: 'follower', connection: follower });
    closers.push(() => queue.close());
    await queue.enqueue({ id: 'before', type: 'noop', payload: null });

    const { from, to, ms } = await group.failover({ untilDemoted: false });
    await until('the follower on the new master', () => hasClient(to, 'sentinel-follower'));
    expect(await hasClient(from, 'sentinel-follower')).toBe(false);
    expect(await hasClient(from, 'sentinel-sleeper')).toBe(true);
    // both write while the old master is not yet a replica
    const t0 = Date.now();
    const task = await queue.enqueue({ id: 'after', type: 'noop', payload: null });
    await sleeper.set('sleeper-write', 'lost');
    expect(await respCommand(from, ['GET', 'sleeper-write'])).toBe('lost');
    const demotedMs = await group.waitForReplicaOf(from, to);
    // the sentinels made the old master a replica (its data replaced by the new master's, its clients disconnected)
    expect(task.id).toBe('after');
    expect(await respCommand(to, ['HEXISTS', queue.keys.tasks, 'before'])).toBe(1);
    expect(await respCommand(to, ['HEXISTS', queue.keys.tasks, 'after'])).toBe(1);
    expect(await respCommand(to, ['GET', 'sleeper-write'])).toBeNull();
    expect(await respCommand(from, ['GET', 'sleeper-write'])).toBeNull();
    // the sleeper reconnected through the sentinels: its next write lands on the new master
    expect(await sleeper.set('sleeper-write-2', 'kept')).toBe('OK');
    expect(await respCommand(to, ['GET', 'sleeper-write-2'])).toBe('kept');
    console.log(
      `sentinel failover: new master after ${ms} ms; the old master took writes for another ${Date.now() - t0 + 0} ms (made a replica ${demotedMs} ms after the test's writes): ` +
        'the failoverDetector client was on the new master at once, the write of a client without it was lost',
    );
  }, 60_000);
});
