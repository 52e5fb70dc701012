import { Cluster, Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { ConnectionClosedError } from './errors/connection-closed-error';
import { RedisConnectionError } from './errors/redis-connection-error';
import { UnsupportedRedisError } from './errors/unsupported-redis-error';
import { resolveClient } from './options';
import { EventEmitter } from 'node:events';
import { connectionNameOf, duplicateClient, RedisHandle, refreshSlotsWhileOpen } from './redis-handle';

describe('RedisHandle', () => {
  it('names the address of a URL without its password, and hands a heartbeat thread the URL', () => {
    const handle = new RedisHandle('redis://user:s3cret@db.example:6380/2');
    expect(handle.address).toBe('redis://user:***@db.example:6380/2');
    expect(handle.isGiven).toBe(false);
    expect(handle.threadTarget()).toEqual({ url: 'redis://user:s3cret@db.example:6380/2' });
  });

  it('names the address of ioredis options without the password, and hands a thread only plain options', () => {
    const handle = new RedisHandle({ host: 'db.example', port: 6390, password: 's3cret', db: 3, retryStrategy: () => 10 });
    expect(handle.address).toBe('redis://db.example:6390/3');
    const target = handle.threadTarget();
    expect(target).toEqual({ options: { host: 'db.example', port: 6390, password: 's3cret', db: 3 } });
    expect(new RedisHandle({ sentinels: [{ host: 's1', port: 26379 }], name: 'main' }).address).toBe('sentinel main via s1:26379');
  });

  it("refuses ioredis's keyPrefix (options, a given client, a Cluster's redisOptions), naming taskq's own prefix option", () => {
    const refused = (make: () => unknown) => {
      try {
        make();
      } catch (err) {
        return err;
      }
      throw new Error('accepted a keyPrefix');
    };
    const fromOptions = refused(() => new RedisHandle({ host: 'db.example', keyPrefix: 'app:' }));
    expect(fromOptions).toBeInstanceOf(UnsupportedRedisError);
    expect(fromOptions).toMatchObject({ code: 'TASKQ_UNSUPPORTED_REDIS', message: expect.stringContaining('keyPrefix option ("app:")') as unknown });
    expect((fromOptions as Error).message).toContain('`prefix` option');
    const client = new Redis({ keyPrefix: 'app:', lazyConnect: true });
    expect(refused(() => new RedisHandle(client))).toBeInstanceOf(UnsupportedRedisError);
    client.disconnect();
    const clusterLike = { duplicate: () => undefined, evalsha: () => undefined, isCluster: true, options: { redisOptions: { keyPrefix: 'c:' } } };
    expect(refused(() => new RedisHandle(clusterLike as never))).toBeInstanceOf(UnsupportedRedisError);
    expect(() => new RedisHandle({ host: 'db.example', keyPrefix: '' })).not.toThrow();
  });

  it('gives no thread target for what a thread cannot be given (a custom Connector, a natMap function), and the db a given client SELECTed', async () => {
    const natMap = () => ({ host: '10.0.0.1', port: 6379 });
    expect(new RedisHandle({ sentinels: [{ host: 's1', port: 26379 }], name: 'main', natMap }).threadTarget()).toBeUndefined();
    class MyConnector {}
    expect(new RedisHandle({ host: 'db.example', Connector: MyConnector } as never).threadTarget()).toBeUndefined();
    // ioredis keeps the db a SELECT switched to (it selects it again on reconnect): so does the thread
    const real = new Redis({ host: '127.0.0.1', port: 6399, db: 2, lazyConnect: true });
    (real as unknown as { condition: { select: number } }).condition = { ...(real as unknown as { condition: object }).condition, select: 7 };
    expect(new RedisHandle(real).threadTarget()).toEqual({ options: expect.objectContaining({ db: 7 }) as unknown });
    (real as unknown as { condition: { select: number } }).condition.select = 0;
    expect(new RedisHandle(real).threadTarget()).toEqual({ options: expect.not.objectContaining({ db: expect.anything() as unknown }) as unknown });
    real.disconnect();
  });

  it('a Redis Cluster: the thread target is its seeds and credentials, from a redis+cluster:// URL or a given Cluster client', () => {
    expect(new RedisHandle('rediss+cluster://tq:pw@h1:7000,h2:7001').threadTarget()).toEqual({
      cluster: { seeds: [{ host: 'h1', port: 7000 }, { host: 'h2', port: 7001 }], username: 'tq', password: 'pw', tls: true },
    });
    const cluster = new Cluster([{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }], { lazyConnect: true, redisOptions: { password: 'pw' } });
    expect(new RedisHandle(cluster).threadTarget()).toEqual({ cluster: { seeds: [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7001 }], password: 'pw', tls: false } });
    // a natMap function cannot go to a thread
    const mapped = new Cluster([{ host: '10.0.0.1', port: 7000 }], { lazyConnect: true, natMap: () => ({ host: 'x', port: 1 }) });
    expect(new RedisHandle(mapped).threadTarget()).toBeUndefined();
    cluster.disconnect();
    mapped.disconnect();
  });

  it("names a given client's subscriber `<its name>-sub`: a server's client, and a Cluster's (whose name is in its redisOptions)", async () => {
    const server = new Redis({ lazyConnect: true, connectionName: 'billing' });
    const cluster = new Cluster([{ host: '10.0.0.1', port: 7000 }], { lazyConnect: true, redisOptions: { connectionName: 'billing' } });
    const serverSub = await new RedisHandle(server).duplicate();
    const clusterSub = (await new RedisHandle(cluster).duplicate()) as unknown as Cluster;
    expect(serverSub.options.connectionName).toBe('billing-sub');
    expect(clusterSub.options.redisOptions?.connectionName).toBe('billing-sub');
    for (const c of [server, cluster, serverSub, clusterSub]) c.disconnect();
  });

  it('uses a given client as it is, never closes it, and derives a thread target from a real client only', async () => {
    const real = new Redis({ host: '127.0.0.1', port: 6399, password: 'pw', lazyConnect: true });
    const handle = new RedisHandle(real);
    expect(handle.isGiven).toBe(true);
    expect(handle.client()).toBe(real);
    expect(handle.address).toBe('redis://127.0.0.1:6399');
    expect(handle.threadTarget()).toEqual({ options: expect.objectContaining({ host: '127.0.0.1', port: 6399, password: 'pw' }) as unknown });
    await handle.close();
    expect(real.status).toBe('wait'); // untouched: a lazy client never connected, never closed
    real.disconnect();

    const mock = new RedisMock({ port: 47_001 });
    const onMock = new RedisHandle(mock);
    expect(onMock.threadTarget()).toBeUndefined(); // no socket a thread could open: the pool beats from the main thread
    expect(onMock.address).toBe('redis://localhost:47001');
    mock.disconnect();
  });

  it('leaves a subscriber connection to whoever asked for it, and stays closed after close() until reopen()', async () => {
    const mock = new RedisMock({ port: 47_002 });
    const handle = new RedisHandle(mock);
    const sub = await handle.duplicate();
    await sub.subscribe('ch');
    await handle.close();
    expect((sub as unknown as { connected: boolean }).connected).toBe(true); // its opener closes it
    sub.disconnect();
    expect(await mock.ping()).toBe('PONG'); // the given client is never closed
    expect(handle.isClosed).toBe(true);
    expect(handle.current).toBeUndefined();
    const refused = await Promise.resolve(handle.client()).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectionClosedError);
    expect(refused).toMatchObject({ code: 'TASKQ_CONNECTION_CLOSED', address: 'redis://localhost:47002' });
    await expect(handle.duplicate()).rejects.toBeInstanceOf(ConnectionClosedError);
    handle.reopen();
    expect(handle.client()).toBe(mock);
    mock.disconnect();
  });

  it('a connect under way at close() fails, and the closed handle does not connect again by itself', async () => {
    const handle = new RedisHandle('redis://127.0.0.1:1', { connectTimeoutMs: 300 });
    const connecting = Promise.resolve(handle.client()).catch((e: unknown) => e);
    await handle.close();
    expect(await connecting).toBeInstanceOf(Error);
    expect(await Promise.resolve(handle.client()).catch((e: unknown) => e)).toBeInstanceOf(ConnectionClosedError);
  });

  it('rejects with RedisConnectionError naming the redacted address when the server is unreachable, and tries again on the next call', async () => {
    const handle = new RedisHandle('redis://:hunter2@127.0.0.1:1', { connectTimeoutMs: 300 });
    const first = await Promise.resolve(handle.client()).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(RedisConnectionError);
    expect((first as RedisConnectionError).code).toBe('TASKQ_REDIS_UNREACHABLE');
    expect((first as Error).message).toContain('redis://:***@127.0.0.1:1');
    expect((first as Error).message).not.toContain('hunter2');
    const second = await Promise.resolve(handle.client()).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(RedisConnectionError);
    expect(second).not.toBe(first);
  });

  it('resolveClient shares a handle it is given (not owned) and owns one it makes', () => {
    const shared = new RedisHandle('redis://127.0.0.1:6379');
    expect(resolveClient({ queue: 'a', connection: shared })).toMatchObject({ handle: shared, ownsHandle: false });
    const made = resolveClient({ queue: 'a', connection: 'redis://127.0.0.1:6379' });
    expect(made.ownsHandle).toBe(true);
    expect(made.keys.ready).toBe('taskq:{a}:ready');
    expect(resolveClient({}).keys.queue).toBe('default');
  });
});

describe('refreshSlotsWhileOpen (a Cluster subscriber follows a resharding)', () => {
  afterEach(() => jest.useRealTimers());

  it("reloads the slot map every interval while the cluster is ready, and never after its 'end' (a reload under way at quit() arms nothing)", () => {
    jest.useFakeTimers();
    const refresh = jest.fn();
    const cluster = Object.assign(new EventEmitter(), { status: 'connecting', refreshSlotsCache: refresh }) as unknown as Cluster & { status: string };
    refreshSlotsWhileOpen(cluster, 1000);
    jest.advanceTimersByTime(1000);
    expect(refresh).not.toHaveBeenCalled(); // not connected yet
    cluster.status = 'ready';
    jest.advanceTimersByTime(3000);
    expect(refresh).toHaveBeenCalledTimes(3);
    cluster.status = 'end';
    cluster.emit('end');
    cluster.status = 'ready'; // even if something made it ready again
    jest.advanceTimersByTime(10_000);
    expect(refresh).toHaveBeenCalledTimes(3);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('duplicateClient gives a Cluster sharded subscribers and no ioredis slotsRefreshInterval', () => {
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true, redisOptions: { connectionName: 'app' } });
    const sub = duplicateClient(cluster, { connectionName: 'app-sub' }) as unknown as Cluster;
    expect(sub.options.shardedSubscribers).toBe(true);
    expect(sub.options.slotsRefreshInterval).toBeUndefined();
    expect(connectionNameOf(sub)).toBe('app-sub');
    expect(connectionNameOf(cluster)).toBe('app');
    sub.disconnect();
    cluster.disconnect();
  });
});
