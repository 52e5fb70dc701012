import { Redis } from 'ioredis';
import { Monitor } from '@taskq/monitor';
import { ConnectionClosedError, Queue } from '@taskq/queue';
import { WorkerPool } from '@taskq/worker-pool';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { newQueueName, RedisClients } from './test-support/redis-fixture';
import { waitUntil } from './test-support/wait';

/** CLIENT LIST's `name=` of every connection to the run's server. */
async function clientNames(admin: Redis): Promise<string[]> {
  const list = await admin.client('LIST');
  return String(list)
    .split('\n')
    .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name !== '');
}

/**
 * Who closes which connection when taskq objects share one: the object that
 * opened a connection closes it, a closed connection stays closed, and every
 * object closes the subscriber connections it opened itself.
 */
// A server of this file's own: the tests count connections by name in CLIENT LIST, and the
// files that run beside it on the run's shared server open connections of the same names
// (a Monitor's `taskq-monitor`, seen once in CI).
let server: RedisServer;
beforeAll(async () => {
  server = await startRedisServer();
}, 20_000);
afterAll(() => server.stop());
const testRedisUrl = (): string => server.url;

describe('shared connections', () => {
  const clients = new RedisClients();
  afterEach(() => clients.close());

  it("a queue's close() leaves the subscriber of a monitor sharing its connection alone; the monitor's stop() closes it", async () => {
    const admin = await clients.connectServer(testRedisUrl(), 'taskq-it-admin');
    const config = { queue: newQueueName('share') };
    const queue = new Queue({ ...config, connection: testRedisUrl() });
    const monitor = new Monitor({ ...config, connection: queue.connection });
    await monitor.start();
    const task = await queue.enqueue('note', {});
    await queue.close();

    // the monitor is still subscribed (its own connection), on the queue's events channel
    const subscribed = (await admin.pubsub('NUMSUB', queue.keys.events)) as [string, number];
    expect(subscribed[1]).toBe(1);
    // its commands ran on the queue's connection, which its owner closed: no silent reconnect
    await expect(monitor.waitFor(task.id, undefined, { timeoutMs: 2000 })).rejects.toBeInstanceOf(ConnectionClosedError);
    await expect(Promise.resolve(queue.connection.client())).rejects.toMatchObject({ code: 'TASKQ_CONNECTION_CLOSED' });
    expect(queue.connection.current).toBeUndefined();

    await monitor.stop();
    await waitUntil(async () => ((await admin.pubsub('NUMSUB', queue.keys.events)) as [string, number])[1] === 0, { timeoutMs: 5000, what: 'the monitor subscriber to be gone' });
    // a QUIT's connection leaves the server's client list once its reply is written (Redis frees it
    // asynchronously; on a loaded server the list can still show it for a moment)
    const left = async (): Promise<string[]> => (await clientNames(admin)).filter((n) => n.startsWith('taskq-queue') || n.startsWith('taskq-monitor'));
    await waitUntil(async () => (await left()).length === 0, { timeoutMs: 5000, what: 'no taskq-queue or taskq-monitor connection left' });
    expect(await left()).toEqual([]);
  });

  it('a monitor started again after stop() reconnects the connection it owns, and sees the recorded status', async () => {
    const config = { queue: newQueueName('restart') };
    const queue = new Queue({ ...config, connection: testRedisUrl() });
    const monitor = new Monitor({ ...config, connection: testRedisUrl() });
    try {
      await monitor.start();
      await monitor.stop();
      await expect(Promise.resolve(monitor.connection.client())).rejects.toBeInstanceOf(ConnectionClosedError);
      await monitor.start();
      const task = await queue.enqueue('note', {});
      expect((await monitor.waitFor(task.id, ['Queued'], { timeoutMs: 5000 })).status).toBe('Queued');
    } finally {
      await monitor.stop();
      await queue.close();
    }
  });

  it('monitor.stop() waits for the first read of a waitFor() of many ids, and closes everything it opened', async () => {
    const admin = await clients.connectServer(testRedisUrl(), 'taskq-it-admin');
    const config = { queue: newQueueName('reads') };
    const monitor = new Monitor({ ...config, connection: testRedisUrl(), readChunkSize: 50 });
    await monitor.start();
    const ids = Array.from({ length: 2000 }, (_, i) => `never-${i}`);
    const waiting = monitor.waitFor(ids).catch((err: unknown) => err);
    await monitor.stop();
    expect(await waiting).toMatchObject({ name: 'MonitorNotRunningError' });
    // nothing reconnected behind the stopped monitor
    expect((await clientNames(admin)).filter((n) => n.startsWith('taskq-monitor'))).toEqual([]);
    expect(monitor.connection.current).toBeUndefined();
  });

  it('a pool on a client made with enableOfflineQueue: false subscribes, runs a task, and names its subscriber after the client', async () => {
    const admin = await clients.connectServer(testRedisUrl(), 'taskq-it-admin');
    const url = new URL(testRedisUrl());
    // not yet connected: a command sent now would be refused, not queued
    const redis = clients.adopt(new Redis({ host: url.hostname, port: Number(url.port), enableOfflineQueue: false, lazyConnect: true, connectionName: 'billing' }));
    await redis.connect();
    const config = { queue: newQueueName('offline') };
    const done: string[] = [];
    const pool = new WorkerPool({ ...config, connection: redis, concurrency: 2, heartbeat: 'main', janitor: false, handlers: { note: (task) => void done.push(task.id) } });
    await pool.start();
    try {
      const queue = new Queue({ ...config, connection: redis });
      const task = await queue.enqueue('note', {});
      await waitUntil(() => done.includes(task.id), { timeoutMs: 10_000, what: 'the task to run' });
      expect(await clientNames(admin)).toContain('billing-sub');
    } finally {
      await pool.stop(0);
    }
    expect(redis.status).toBe('ready'); // the caller's client stays open
    expect((await clientNames(admin)).filter((n) => n === 'billing-sub')).toEqual([]);
  });

  it('a pool whose start fails after registering its consumer unregisters it, and can start again', async () => {
    const admin = await clients.connectServer(testRedisUrl(), 'taskq-it-admin');
    const config = { queue: newQueueName('badstart') };
    const pool = new WorkerPool({ ...config, connection: testRedisUrl(), concurrency: 1, heartbeat: 'main', janitor: false, consumerId: 'c-badstart' });
    // the subscriber's SUBSCRIBE fails once: the start fails after register()
    const failOnce = pool as unknown as { openSubscriber(): Promise<Redis> };
    const real = failOnce.openSubscriber.bind(pool);
    failOnce.openSubscriber = () => {
      failOnce.openSubscriber = real;
      return Promise.reject(new Error('subscriber refused'));
    };
    await expect(pool.start()).rejects.toThrow('subscriber refused');
    expect(await admin.zscore(pool.keys.consumers, 'c-badstart')).toBeNull();
    await pool.start();
    try {
      expect(await admin.zscore(pool.keys.consumers, 'c-badstart')).not.toBeNull();
    } finally {
      await pool.stop(0);
    }
  });
});
