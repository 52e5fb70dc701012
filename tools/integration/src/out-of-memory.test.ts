import { Redis } from 'ioredis';
import { Monitor } from '@taskq/monitor';
import { Queue, queueKeys } from '@taskq/queue';
import { WorkerPool } from '@taskq/worker-pool';
import { startRedisServer, type RedisServer } from '@taskq/redis-harness';
import { CaptureLogger } from './test-support/capture-logger';
import { waitUntil } from './test-support/wait';

/**
 * Redis at maxmemory with noeviction refuses every write: heartbeats, fetches,
 * acks, the janitors' mutex. Nothing may be run twice because of it: no live
 * worker is presumed dead once writes work again, and a finished task's
 * outcome is held until Redis takes it. Its own redis-server: maxmemory is a
 * server-wide setting.
 */
describe('Redis refusing every write for a while (maxmemory, noeviction)', () => {
  let server: RedisServer;
  let admin: Redis;

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url, { connectionName: 'taskq-it-admin' });
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
  });

  afterAll(async () => {
    await admin.config('SET', 'maxmemory', '0').catch(() => undefined);
    admin.disconnect();
    await server.stop();
  });

  it('runs every task once: the janitors presume no live worker dead, and finished outcomes land once writes work again', async () => {
    const queueName = 'oom';
    const config = { queue: queueName, connection: server.url };
    const runs = new Map<string, number>();
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const handlers = {
      work: async (task: { id: string }) => {
        runs.set(task.id, (runs.get(task.id) ?? 0) + 1);
        await gate;
      },
    };
    const poolOptions = { ...config, concurrency: 2, heartbeatMs: 400, janitor: { staleAfterMs: 800, intervalMs: 50 }, graceMs: 5000, handlers };
    const logs = [new CaptureLogger(), new CaptureLogger()];
    const pools = logs.map((logger) => new WorkerPool({ ...poolOptions, logger }));
    const queue = new Queue(config);
    const monitor = new Monitor(config);
    try {
      await Promise.all(pools.map((p) => p.start()));
      await monitor.start();
      const tasks = await queue.enqueueMany([1, 2, 3, 4].map((n) => ({ id: `oom-${n}`, type: 'work', payload: {} })));
      await waitUntil(() => runs.size === 4, { timeoutMs: 5000, what: 'the 4 tasks to be running' });
      const waiting = await queue.enqueue('work', {}, { id: 'oom-5' }); // every sub-worker is busy: it stays Queued

      await admin.config('SET', 'maxmemory', '1');
      await expect(admin.set('probe', 'x')).rejects.toThrow(/^OOM/);
      // reads work while writes are refused (a task with no record yet is read with its body, atomically)
      const late = new Monitor(config); // started now: it has seen no event of the task
      try {
        await late.start();
        expect((await late.waitFor(waiting.id, ['Queued'], { timeoutMs: 5000 })).status).toBe('Queued');
      } finally {
        await late.stop();
      }
      openGate(); // the handlers finish while Redis refuses their acks
      const consumers = queueKeys(queueName).consumers;
      const ids = pools.map((p) => p.consumer.id);
      await waitUntil(
        async () => {
          const held = logs.every((l) => l.messages().some((m) => m.startsWith('recording a task outcome failed')));
          const scores = await Promise.all(ids.map((id) => admin.zscore(consumers, id)));
          return held && scores.every((s) => Date.now() - Number(s) > 1200);
        },
        { timeoutMs: 10_000, what: 'refused acks in both pools and every heartbeat older than the stale limit' },
      );
      await admin.config('SET', 'maxmemory', '0');

      for (const task of [...tasks, waiting]) expect((await monitor.waitFor(task.id, ['Done'], { timeoutMs: 15_000 })).status).toBe('Done');
      expect([...runs.values()]).toEqual([1, 1, 1, 1, 1]);
      const all = logs.flatMap((l) => l.messages());
      expect(all.filter((m) => /missed its heartbeats; returned|was presumed dead;|reply was lost/.test(m))).toEqual([]);
    } finally {
      openGate();
      await admin.config('SET', 'maxmemory', '0');
      await Promise.all(pools.map((p) => p.stop()));
      await monitor.stop();
      await queue.close();
    }
  }, 60_000);

  it('a pool stopped while Redis refuses writes still stops, says which outcomes it could not record, and those tasks run again', async () => {
    const queueName = 'oom-stop';
    const config = { queue: queueName, connection: server.url };
    let openGate: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const runs: string[] = [];
    const handlers = {
      work: async (task: { id: string }) => {
        runs.push(task.id);
        await gate;
      },
    };
    const logger = new CaptureLogger();
    const pool = new WorkerPool({ ...config, concurrency: 1, heartbeatMs: 100, janitor: false, logger, handlers });
    const queue = new Queue(config);
    const monitor = new Monitor(config);
    let second: { stop(): Promise<unknown> } | undefined;
    try {
      await pool.start();
      await monitor.start();
      const task = await queue.enqueue('work', {}, { id: 'oom-stop-1' });
      await waitUntil(() => runs.length === 1, { timeoutMs: 5000, what: 'the task to be running' });
      await admin.config('SET', 'maxmemory', '1');
      openGate();
      await waitUntil(() => logger.messages().some((m) => m.startsWith('recording a task outcome failed')), { timeoutMs: 5000, what: 'a refused ack' });
      const started = Date.now();
      await pool.stop(1000);
      expect(Date.now() - started).toBeLessThan(10_000);
      const errors = logger.lines.filter((l) => l.level === 'error').map((l) => l.msg);
      expect(errors.some((m) => m.startsWith('stopping: the outcome of 1 finished task(s) could not be recorded') && m.endsWith(': oom-stop-1'))).toBe(true);
      await admin.config('SET', 'maxmemory', '0');

      // put back by the stop (a release only deletes before it writes, which Redis allows at maxmemory), or
      // left in the stopped pool's processing list for a janitor: either way another pool runs it again
      const other = new WorkerPool({ ...config, heartbeatMs: 100, janitor: { staleAfterMs: 500, intervalMs: 50 }, handlers });
      second = other;
      await other.start();
      expect((await monitor.waitFor(task.id, ['Done'], { timeoutMs: 15_000 })).status).toBe('Done');
      expect(runs).toEqual(['oom-stop-1', 'oom-stop-1']);
    } finally {
      openGate();
      await admin.config('SET', 'maxmemory', '0');
      await pool.stop();
      await second?.stop();
      await monitor.stop();
      await queue.close();
    }
  }, 60_000);
});
